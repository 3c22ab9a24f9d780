package dev.conclab.bench.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.load.LoadGenerator;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Graceful shutdown under load: a model's server in a child JVM (default limits; rate and message size raised for
 * the bench's own traffic) holds {@code connections} clients in rooms of {@code roomSize}, plus {@code mute} clients
 * that stop reading once joined and never answer a Close frame. Each mute client is then sent 200 direct messages of
 * 30,000 chars (6 MB: more than the server's socket send buffer and Netty's 64 KiB hold, in fewer frames than the
 * outbox's soft limit), so its 1001 cannot get through. The clients that do not send stop reading; the first
 * {@code sendersPerRoom} members of every room send one message each; once every sender has its ack, every copy is
 * queued (or in a socket buffer), and the bench tells the child to {@code close(drain)} and lets the receivers read
 * again.
 *
 * <p>It reports: the copies queued and how many had not reached their client when the shutdown began; whether every
 * one arrived, and before its client's Close frame; the close codes received (and connections closed without one);
 * the time from the close command to the last Close frame received; the child's own {@code close} duration and
 * result ({@code true}: every connection closed within the deadline); what the mute clients saw once they read again.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.conclab.bench.chat.ChatShutdownBench [--model=M]
 * [--connections=1000,10000] [--room=100] [--senders=10] [--mute=2] [--drain-ms=5000]}. Timing is the bench's
 * clock (command written to the child's stdin, Close frames read here). Not thread-safe; one run at a time.
 */
public final class ChatShutdownBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Direct messages of {@link #MUTE_DM_CHARS} chars sent to each mute client before the shutdown: 6 MB, more than
     * the server's socket send buffer can grow to here (4 MiB) plus Netty's 64 KiB, in fewer frames than the outbox's
     * 256-frame soft limit.
     */
    private static final int MUTE_DMS = 200;
    private static final int MUTE_DM_CHARS = 30_000;

    /** The sizes of one run. */
    public record Settings(int connections, int roomSize, int sendersPerRoom, int mute, Duration drain) {
        public Settings {
            if (connections % roomSize != 0 || sendersPerRoom > roomSize) {
                throw new IllegalArgumentException("connections must be a multiple of roomSize >= sendersPerRoom");
            }
        }
    }

    /** What one run measured. */
    public record Result(ChatModel model, Settings settings, int joined, double connectSeconds, long expectedCopies,
                         long receivedBeforeClose, long receivedCopies, boolean everyCopyBeforeItsClose,
                         Map<Integer, Long> closesByCode, long closedWithoutFrame, double lastCloseMillis,
                         double childCloseMillis, boolean drainedInTime, List<String> mute, double load) {}

    private ChatShutdownBench() {
    }

    // ---- the client side, in this JVM ----

    private static final class Counters {
        final LongAdder copies = new LongAdder();
        final LongAdder copiesAfterClose = new LongAdder();
        final ConcurrentHashMap<Integer, LongAdder> closes = new ConcurrentHashMap<>();
        final LongAdder withoutFrame = new LongAdder();
        final LongAdder failed = new LongAdder();
        final AtomicLong lastCloseNanos = new AtomicLong();
        volatile CountDownLatch joined;
        volatile CountDownLatch acked;
        volatile CountDownLatch gone;
    }

    private static final class Client extends SimpleChannelInboundHandler<WebSocketFrame> {
        final String name;
        final String room;
        final boolean mute;
        final Counters counters;
        final Semaphore inFlight;
        volatile Channel channel;
        volatile int closeCode = -1;
        volatile int framesAfterMute;
        private volatile boolean joined;
        private boolean closeSeen;
        private boolean settled;

        Client(String name, String room, boolean mute, Counters counters, Semaphore inFlight) {
            this.name = name;
            this.room = room;
            this.mute = mute;
            this.counters = counters;
            this.inFlight = inFlight;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) throws IOException {
            if (mute && joined) {
                framesAfterMute++;
            }
            if (frame instanceof CloseWebSocketFrame close) {
                closeSeen = true;
                closeCode = close.statusCode();
                counters.closes.computeIfAbsent(closeCode, k -> new LongAdder()).increment();
                counters.lastCloseNanos.accumulateAndGet(System.nanoTime(), Math::max);
                ctx.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (!(frame instanceof TextWebSocketFrame text)) {
                return;
            }
            String s = text.text();
            if (s.startsWith("{\"type\":\"message\"")) {
                if (!mute) {
                    (closeSeen ? counters.copiesAfterClose : counters.copies).increment();
                }
                return;
            }
            if (s.startsWith("{\"type\":\"ack\"")) {
                counters.acked.countDown();
                return;
            }
            JsonNode json = JSON.readTree(s);
            switch (json.path("type").asText()) {
                case "welcome" -> ctx.writeAndFlush(new TextWebSocketFrame(
                        "{\"type\":\"join\",\"room\":\"" + room + "\"}"));
                case "joined" -> {
                    if (!joined && name.equals(json.path("name").asText())) {
                        joined = true;
                        if (mute) {
                            ctx.channel().config().setAutoRead(false); // stops reading from here on
                        }
                        settle();
                    }
                }
                default -> { }
            }
        }

        void send(String text) {
            channel.writeAndFlush(new TextWebSocketFrame("{\"type\":\"send\",\"room\":\"" + room + "\",\"text\":\""
                    + text + "\"}"));
        }

        void dm(String to, String text) {
            channel.writeAndFlush(new TextWebSocketFrame("{\"type\":\"dm\",\"to\":\"" + to + "\",\"text\":\""
                    + text + "\"}"));
        }

        /** Stops or resumes reading (the frames meanwhile wait in the server's queue and the socket buffers). */
        void reading(boolean on) {
            channel.config().setAutoRead(on);
            if (on) {
                channel.read();
            }
        }

        /** Connected and joined, or failed: counted once, frees a connect slot. */
        synchronized void settle() {
            if (!settled) {
                settled = true;
                inFlight.release();
                counters.joined.countDown();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (!joined) {
                counters.failed.increment();
                settle();
            }
            if (!closeSeen) {
                counters.withoutFrame.increment();
            }
            counters.gone.countDown();
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!joined) {
                System.err.println(name + ": " + cause);
            }
            ctx.close();
        }
    }

    /** Runs one model with {@code s}. */
    public static Result run(ChatModel model, Settings s) throws IOException, InterruptedException {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Process server = new ProcessBuilder(javaBin.toString(), "-Xmx1g", "-XX:+UseG1GC",
                "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ChatShutdownBench.class.getName(), "--child",
                model.id())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("shutdown-bench", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            if (first == null || !first.startsWith("port ")) {
                throw new IllegalStateException("the " + model.id() + " server did not start: " + first);
            }
            int port = Integer.parseInt(first.substring(5).trim());
            int total = s.connections() + s.mute();
            Counters counters = new Counters();
            counters.joined = new CountDownLatch(total);
            counters.gone = new CountDownLatch(total);
            int rooms = s.connections() / s.roomSize();
            counters.acked = new CountDownLatch(rooms * s.sendersPerRoom() + s.mute() * MUTE_DMS);
            List<Client> clients = new ArrayList<>(total);
            Semaphore inFlight = new Semaphore(256);
            long t0 = System.nanoTime();
            for (int i = 0; i < total; i++) {
                boolean mute = i >= s.connections();
                String name = (mute ? "M" : "C") + i;
                Client c = new Client(name, "room-" + (i % rooms), mute, counters, inFlight);
                clients.add(c);
                inFlight.acquire();
                URI uri = URI.create("ws://127.0.0.1:" + port + "/chat?name=" + name);
                WebSocketClientProtocolConfig ws = WebSocketClientProtocolConfig.newBuilder().webSocketUri(uri)
                        .handleCloseFrames(false).maxFramePayloadLength(1 << 20).build();
                Bootstrap b = new Bootstrap().group(group)
                        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8 << 10),
                                        new WebSocketClientProtocolHandler(ws), c);
                            }
                        });
                if (mute) {
                    b.option(ChannelOption.SO_RCVBUF, 4 << 10);
                }
                io.netty.channel.ChannelFuture f = b.connect(new InetSocketAddress("127.0.0.1", port));
                c.channel = f.channel();
                f.addListener(done -> {
                    if (!done.isSuccess()) {
                        System.err.println("connect failed: " + done.cause());
                        counters.failed.increment();
                        c.settle();
                    }
                });
            }
            if (!counters.joined.await(5, TimeUnit.MINUTES)) {
                throw new IllegalStateException("only " + (total - counters.joined.getCount()) + " of " + total
                        + " clients joined in 5 minutes");
            }
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            if (counters.failed.sum() > 0) {
                throw new IllegalStateException(counters.failed.sum() + " of " + total + " clients failed to connect");
            }
            Thread.sleep(1_000); // let the joined announcements settle
            // Each mute client gets more than the socket buffers hold (see MUTE_DMS), so its 1001 cannot get
            // through: the deadline has to cut it off.
            String kilo = "d".repeat(MUTE_DM_CHARS);
            for (Client c : clients) {
                if (c.mute) {
                    for (int k = 0; k < MUTE_DMS; k++) {
                        clients.getFirst().dm(c.name, kilo);
                    }
                }
            }
            // Receivers stop reading, so the copies of the room messages are still queued when close() begins.
            for (int i = 0; i < s.connections(); i++) {
                if (i / rooms >= s.sendersPerRoom()) {
                    clients.get(i).reading(false);
                }
            }
            long copiesBefore = counters.copies.sum();
            String pad = "q".repeat(200);
            for (int i = 0; i < s.connections(); i++) {
                if (i / rooms < s.sendersPerRoom()) { // the first sendersPerRoom members of every room
                    clients.get(i).send("Q" + i + pad);
                }
            }
            if (!counters.acked.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("not every message was acked");
            }
            long expected = (long) rooms * s.sendersPerRoom() * s.roomSize();
            OutputStream toChild = server.getOutputStream();
            long closeStart = System.nanoTime();
            toChild.write(("close " + s.drain().toMillis() + "\n").getBytes(StandardCharsets.US_ASCII));
            toChild.flush();
            long receivedBeforeClose = counters.copies.sum() - copiesBefore;
            for (int i = 0; i < s.connections(); i++) {
                clients.get(i).reading(true); // the receivers read again, while the server drains
            }
            String closed = lines.readLine(); // "closed <drained> <millis>"
            if (closed == null || !closed.startsWith("closed ")) {
                throw new IllegalStateException("the child did not report its close: " + closed);
            }
            String[] parts = closed.split(" ");
            boolean drained = Boolean.parseBoolean(parts[1]);
            double childMillis = Double.parseDouble(parts[2]);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() - waitUntil < 0) { // the normal clients are all gone by now
                long normalGone = clients.stream().filter(c -> !c.mute && !c.channel.isActive()).count();
                if (normalGone == s.connections()) {
                    break;
                }
                Thread.sleep(10);
            }
            double lastCloseMillis = counters.lastCloseNanos.get() == 0 ? -1
                    : (counters.lastCloseNanos.get() - closeStart) / 1e6;
            Map<Integer, Long> byCode = new TreeMap<>();
            counters.closes.forEach((k, v) -> byCode.put(k, v.sum()));
            long withoutFrame = counters.withoutFrame.sum();
            double load = LoadGenerator.loadAverage();
            // The mute clients read again now: what had the server sent them before it cut them off?
            List<String> mute = new ArrayList<>();
            for (Client c : clients) {
                if (c.mute) {
                    c.channel.config().setAutoRead(true);
                    c.channel.read();
                }
            }
            for (Client c : clients) {
                if (c.mute) {
                    c.channel.closeFuture().await(5, TimeUnit.SECONDS);
                    mute.add(c.name + ": " + c.framesAfterMute + " frames after it stopped reading, close code "
                            + (c.closeCode < 0 ? "none" : c.closeCode) + ", connection "
                            + (c.channel.isActive() ? "still open" : "closed"));
                }
            }
            long received = counters.copies.sum() - copiesBefore;
            return new Result(model, s, total - (int) counters.joined.getCount(), connectSeconds, expected,
                    receivedBeforeClose, received, counters.copiesAfterClose.sum() == 0, byCode, withoutFrame,
                    lastCloseMillis, childMillis, drained, mute, load);
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
            server.getOutputStream().close();
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** Prints one run. */
    public static void print(Result r, String machine, PrintStream out) {
        Settings s = r.settings();
        out.printf(Locale.ROOT, "%s: %,d clients + %d mute in rooms of %d (%,d/%,d joined in %.1f s), %d senders per "
                        + "room, close(drain %d ms)   [%s]%n", r.model().id(), s.connections(), s.mute(), s.roomSize(),
                r.joined(), s.connections() + s.mute(), r.connectSeconds(), s.sendersPerRoom(), s.drain().toMillis(),
                machine);
        out.printf(Locale.ROOT, "  copies queued before close: %,d (%,d not yet received when close began); "
                        + "received %,d, every one before its client's Close: %s%n", r.expectedCopies(),
                r.expectedCopies() - r.receivedBeforeClose(), r.receivedCopies(), r.everyCopyBeforeItsClose());
        out.printf(Locale.ROOT, "  close codes received %s, closed without a Close frame %d; last Close frame %.0f ms "
                        + "after close() began; the server's close() took %.0f ms and returned %s (true: every "
                        + "connection closed in time)  load %.2f%n", r.closesByCode(), r.closedWithoutFrame(),
                r.lastCloseMillis(), r.childCloseMillis(), r.drainedInTime(), r.load());
        for (String m : r.mute()) {
            out.println("  mute " + m);
        }
    }

    /**
     * {@code ChatShutdownBench [--model=M] [--connections=N,...] [--room=100] [--senders=10] [--mute=2]
     * [--drain-ms=5000]}; {@code --child MODEL} is the server side.
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--child")) {
            child(ChatModel.parse(args[1]));
            return;
        }
        ChatModel model = ChatModel.EVENTLOOP;
        List<Integer> sizes = List.of(1_000, 10_000);
        int room = 100;
        int senders = 10;
        int mute = 2;
        long drainMillis = 5_000;
        for (String a : args) {
            String v = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--model=")) {
                model = ChatModel.parse(v);
            } else if (a.startsWith("--connections=")) {
                sizes = java.util.Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
            } else if (a.startsWith("--room=")) {
                room = Integer.parseInt(v);
            } else if (a.startsWith("--senders=")) {
                senders = Integer.parseInt(v);
            } else if (a.startsWith("--mute=")) {
                mute = Integer.parseInt(v);
            } else if (a.startsWith("--drain-ms=")) {
                drainMillis = Long.parseLong(v);
            } else {
                System.err.println("unknown argument: " + a);
                System.exit(2);
            }
        }
        for (int n : sizes) {
            Result r = run(model, new Settings(n, room, senders, mute, Duration.ofMillis(drainMillis)));
            print(r, dev.conclab.bench.BenchMain.machine(), System.out);
        }
    }

    /** The server: starts, prints {@code port N}, waits for {@code close MILLIS}, closes, prints the outcome. */
    private static void child(ChatModel model) throws IOException {
        // Default limits, except the rate (the bench's first client sends every DM to the mute clients at once)
        // and the message size (the DMs to the mute clients are 30,000 chars).
        ChatConfig config = ChatConfig.defaults().withPort(0).withIdleTimeout(Duration.ofMinutes(10))
                .withRate(10_000, 10_000).withMaxFrameBytes(64 << 10).withMaxTextChars(30_000);
        ChatServer server = model.start(config);
        System.out.println("port " + server.port());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String line = in.readLine();
        long drain = line != null && line.startsWith("close ") ? Long.parseLong(line.substring(6).trim()) : 2_000;
        long t0 = System.nanoTime();
        boolean drained = server.close(Duration.ofMillis(drain));
        System.out.printf(Locale.ROOT, "closed %s %.1f%n", drained, (System.nanoTime() - t0) / 1e6);
        System.out.flush();
        System.exit(0);
    }
}
