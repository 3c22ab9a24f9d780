package dev.conclab.chat.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Opens {@link LoadConfig#connections()} WebSocket clients to a chat server, joins each to its room, runs the rate
 * steps and returns a {@link LoadReport}. One run per instance: {@link #run()} blocks until the run is over and every
 * connection and thread it opened is closed.
 *
 * <p><b>Why Netty's client.</b> A client connection here is a channel on a shared event loop: a few KiB of state and
 * no thread, so 10,000 of them need {@link LoadConfig#ioThreads()} threads in all. The JDK's
 * {@code java.net.http.WebSocket} would do for a few hundred, but each of its clients brings its own selector
 * thread (one {@code HttpClient} per connection) or, when shared, one selector for everything; Netty is also the
 * codec the server already uses, so no new dependency.
 *
 * <p><b>Measuring.</b> The sender (the calling thread) spreads each step's messages over the connections in turn at
 * the aggregate rate; each text holds the step number and {@link System#nanoTime()} at send, and every copy the
 * members receive is recorded, receipt minus send, in an HdrHistogram {@link Recorder} (wait-free for the event-loop
 * threads that record). Sender and receivers share one process, so one clock, and the latency includes the client's
 * own queueing: on a busy machine that is part of the figure. Copies of an earlier step's messages that arrive late
 * are not counted in the later step.
 *
 * <p><b>Thread safety.</b> Not for concurrent use: call {@link #run()} once, from one thread.
 */
public final class LoadGenerator {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGE_PREFIX = "{\"type\":\"message\"";
    private static final String TEXT_FIELD = "\"text\":\"L";
    /** How long after a step's last send its deliveries may still arrive. */
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final LoadConfig config;
    private final String runTag = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    private final AtomicIntegerArray members;
    private final Recorder latencyMicros = new Recorder(3);
    private final LongAdder delivered = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder connectFailures = new LongAdder();
    private final LongAdder slowConsumerCloses = new LongAdder();
    private final Map<Integer, LongAdder> closes = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private volatile int step = -1;
    private volatile boolean stopping;

    private LoadGenerator(LoadConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.members = new AtomicIntegerArray(config.rooms());
    }

    /** Runs {@code config} to the end; blocks. */
    public static LoadReport run(LoadConfig config) throws InterruptedException {
        return new LoadGenerator(config).run();
    }

    private LoadReport run() throws InterruptedException {
        ServerMemory before = memory();
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                new DefaultThreadFactory("chat-load", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Client[] clients = new Client[config.connections()];
        try {
            long t0 = System.nanoTime();
            connectAll(group, epoll, clients);
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            int held = 0;
            for (Client c : clients) {
                held += c != null && c.joined ? 1 : 0;
            }
            ServerMemory heldMemory = memory();
            List<LoadReport.Step> steps = new ArrayList<>();
            double warmRate = config.rates().stream().filter(r -> r > 0).findFirst().orElse(0.0);
            if (!config.warmup().isZero() && warmRate > 0) {
                runStep(config.rates().size(), warmRate, config.warmup(), clients);   // not reported
            }
            int over = 0;
            for (int i = 0; i < config.rates().size(); i++) {
                LoadReport.Step s = runStep(i, config.rates().get(i), config.duration(), clients);
                steps.add(s);
                over = config.stopAboveP99Millis() > 0 && s.p99Millis() > config.stopAboveP99Millis() ? over + 1 : 0;
                if (over == 2) {
                    break;                                 // two in a row: one may be a hiccup of a shared machine
                }
            }
            stopping = true;
            return new LoadReport(config.url().toString(), config.connections(), held,
                    (int) connectFailures.sum(), config.rooms(), connectSeconds, steps, sorted(closes),
                    slowConsumerCloses.sum(), sortedErrors(), before, heldMemory, ephemeralPorts());
        } finally {
            stopping = true;
            closeAll(clients);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            group.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private ServerMemory memory() throws InterruptedException {
        return config.serverPid().isPresent() ? ServerMemory.read(config.serverPid().getAsLong())
                : ServerMemory.UNKNOWN;
    }

    // ---- connecting ----

    private void connectAll(EventLoopGroup group, boolean epoll, Client[] clients) throws InterruptedException {
        URI url = config.url();
        InetSocketAddress remote = new InetSocketAddress(url.getHost(), url.getPort());
        Semaphore inFlight = new Semaphore(config.connectConcurrency());
        CountDownLatch settled = new CountDownLatch(clients.length);
        long deadline = System.nanoTime() + config.connectTimeout().toNanos();
        for (int i = 0; i < clients.length; i++) {
            if (!inFlight.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                break;                                     // out of time: the rest count as failures below
            }
            Client client = new Client(i % config.rooms(), "L" + runTag + "-" + i, inFlight, settled);
            clients[i] = client;
            URI wsUri = URI.create(url.getScheme() + "://" + url.getRawAuthority() + url.getRawPath() + "?name="
                    + client.name);
            WebSocketClientProtocolConfig ws = WebSocketClientProtocolConfig.newBuilder()
                    .webSocketUri(wsUri)
                    .handleCloseFrames(false)              // the handler records the server's close code
                    .maxFramePayloadLength(1 << 20)
                    .handshakeTimeoutMillis(config.connectTimeout().toMillis())
                    .build();
            Bootstrap b = new Bootstrap().group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8 << 10),
                                    new WebSocketClientProtocolHandler(ws), client);
                        }
                    });
            ChannelFuture f = config.localAddresses().isEmpty() ? b.connect(remote)
                    : b.connect(remote, new InetSocketAddress(
                    config.localAddresses().get(i % config.localAddresses().size()), 0));
            client.channel = f.channel();
            f.addListener((ChannelFutureListener) done -> {
                if (!done.isSuccess()) {
                    client.fail("connect: " + done.cause().getClass().getSimpleName());
                }
            });
        }
        settled.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        for (Client c : clients) {
            if (c == null) {
                connectFailures.increment();
            } else if (!c.joined) {
                c.fail("connect: timed out");              // counts it once, closes it
            }
        }
    }

    // ---- a rate step ----

    private LoadReport.Step runStep(int index, double rate, Duration duration, Client[] clients)
            throws InterruptedException {
        latencyMicros.reset();
        delivered.reset();
        acked.reset();
        step = index;
        long sent = 0;
        long expected = 0;
        int cursor = 0;
        long start = System.nanoTime();
        long length = duration.toNanos();
        if (rate > 0) {
            while (true) {
                long elapsed = System.nanoTime() - start;
                if (elapsed >= length) {
                    break;
                }
                long due = (long) (elapsed / 1e9 * rate) + 1;
                while (sent < due) {
                    Client c = null;
                    for (int tries = 0; tries < clients.length && c == null; tries++) {
                        Client candidate = clients[cursor];
                        cursor = (cursor + 1) % clients.length;
                        if (candidate != null && candidate.joined) {
                            c = candidate;
                        }
                    }
                    if (c == null) {
                        break;                             // nobody left to send from
                    }
                    expected += members.get(c.room);
                    c.send(index);
                    sent++;
                }
                LockSupport.parkNanos(200_000);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } else {
            Thread.sleep(duration);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long graceEnd = System.nanoTime() + GRACE_NANOS;
        while ((delivered.sum() < expected || acked.sum() < sent) && System.nanoTime() - graceEnd < 0) {
            Thread.sleep(10);
        }
        Histogram h = latencyMicros.getIntervalHistogram();
        return new LoadReport.Step(rate, seconds, sent, acked.sum(), expected, delivered.sum(),
                ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)),
                ms(h.getMaxValue()), loadAverage());
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }

    private void closeAll(Client[] clients) throws InterruptedException {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Client c : clients) {
            if (c != null && c.channel != null && c.channel.isOpen()) {
                Channel ch = c.channel;
                closing.add(ch.closeFuture());
                ch.writeAndFlush(new CloseWebSocketFrame(1000, "load done"))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ChannelFuture f : closing) {
            f.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
    }

    // ---- one connection ----

    /** One client connection; its handler runs on the connection's event loop only. */
    private final class Client extends SimpleChannelInboundHandler<WebSocketFrame> {
        final int room;
        final String roomName;
        final String name;
        private final Semaphore inFlight;
        private final CountDownLatch settled;
        volatile Channel channel;
        volatile boolean joined;
        private boolean settledOnce;               // event loop only, except fail() guarded below
        private boolean serverClosed;

        Client(int room, String name, Semaphore inFlight, CountDownLatch settled) {
            this.room = room;
            this.roomName = "load-" + room;
            this.name = name;
            this.inFlight = inFlight;
            this.settled = settled;
        }

        void send(int step) {
            Channel ch = channel;
            ch.writeAndFlush(new TextWebSocketFrame("{\"type\":\"send\",\"room\":\"" + roomName + "\",\"text\":\"L"
                    + step + "." + System.nanoTime() + "\"}"), ch.voidPromise());
        }

        /** Connecting failed (or timed out): counted once, the channel closed. */
        synchronized void fail(String why) {
            if (!settledOnce) {
                settledOnce = true;
                connectFailures.increment();
                count(errors, why);
                inFlight.release();
                settled.countDown();
            }
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        private synchronized void joinedNow() {
            if (!settledOnce) {
                settledOnce = true;
                joined = true;
                members.incrementAndGet(room);
                inFlight.release();
                settled.countDown();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
                fail("connect: handshake timeout");
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) throws Exception {
            if (frame instanceof TextWebSocketFrame text) {
                onText(ctx, text.text());
            } else if (frame instanceof CloseWebSocketFrame close) {
                serverClosed = true;
                int code = close.statusCode();
                if (!stopping) {
                    count(closes, code);
                    if (code == 1008 && close.reasonText() != null && close.reasonText().startsWith("slow consumer")) {
                        slowConsumerCloses.increment();
                    }
                }
                ctx.writeAndFlush(new CloseWebSocketFrame(code == -1 ? 1000 : code, ""))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void onText(ChannelHandlerContext ctx, String text) throws IOException {
            if (text.startsWith(MESSAGE_PREFIX)) {
                long now = System.nanoTime();
                int at = text.indexOf(TEXT_FIELD);
                if (at < 0) {
                    return;
                }
                int from = at + TEXT_FIELD.length();
                int dot = text.indexOf('.', from);
                int end = text.indexOf('"', dot);
                if (dot < 0 || end < 0 || Integer.parseInt(text, from, dot, 10) != step) {
                    return;                                // another step's late copy
                }
                latencyMicros.recordValue(Math.max(0, (now - Long.parseLong(text, dot + 1, end, 10)) / 1000));
                delivered.increment();
            } else if (text.startsWith("{\"type\":\"ack\"")) {
                acked.increment();
            } else {
                JsonNode json = JSON.readTree(text);
                switch (json.path("type").asText()) {
                    case "welcome" -> ctx.writeAndFlush(new TextWebSocketFrame(
                            "{\"type\":\"join\",\"room\":\"" + roomName + "\"}"));
                    case "joined" -> {
                        if (name.equals(json.path("name").asText()) && roomName.equals(json.path("room").asText())) {
                            joinedNow();
                        }
                    }
                    case "error" -> {
                        count(errors, json.path("code").asText("?"));
                        if (!joined && !"name-taken".equals(json.path("code").asText())) {
                            fail("join: " + json.path("code").asText("?"));
                        }
                    }
                    default -> { }                         // left, presence...: not measured
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (joined) {
                joined = false;
                members.decrementAndGet(room);
                if (!serverClosed && !stopping) {
                    count(closes, 1006);                   // gone without a Close frame
                }
            } else {
                fail("connect: closed before joining");
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!stopping) {
                count(errors, "exception:" + cause.getClass().getSimpleName());
            }
            ctx.close();
        }
    }

    // ---- small helpers ----

    private static <K> void count(Map<K, LongAdder> counts, K key) {
        counts.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    private static <K extends Comparable<K>> Map<K, Long> sorted(Map<K, LongAdder> counts) {
        Map<K, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    private Map<String, Long> sortedErrors() {
        return sorted(errors);
    }

    /** The 1-minute load average, or -1 when {@code /proc/loadavg} cannot be read. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The local port range and whether this run's connections fit in it from one source address. */
    private String ephemeralPorts() {
        try {
            String[] range;
            // not Files.readString: on this kernel it reads one byte of a sysctl file (the size it reports)
            try (var in = new java.io.FileInputStream("/proc/sys/net/ipv4/ip_local_port_range")) {
                range = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim().split("\\s+");
            }
            int lo = Integer.parseInt(range[0]);
            int hi = Integer.parseInt(range[1]);
            int sources = Math.max(1, config.localAddresses().size());
            int perSource = (config.connections() + sources - 1) / sources;
            int size = hi - lo + 1;
            return String.format("local ports %d-%d (%d per source address and server address:port); %d from each of"
                            + " %d source address(es): %s", lo, hi, size, perSource, sources,
                    perSource <= size ? "fits" : "does not fit: add --local-address 127.0.0.2,... (any 127.x.y.z)");
        } catch (IOException | RuntimeException e) {
            return "local port range unknown";
        }
    }
}
