package dev.conclab.lab.experiments.basics;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.experiments.support.LoopbackPair;
import dev.conclab.lab.experiments.support.LoopbackPair.PeerWrite;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Synchronous, non-blocking, asynchronous: three answers to "what does a read do when the data is not there yet?",
 * each shown on a real loopback socket.
 *
 * <ol>
 *   <li><b>BASELINE — synchronous, blocking.</b> {@code InputStream.read()} on a socket to a server that answers
 *       {@code delay-ms} after each request. The call does not return until the answer is there: the calling thread
 *       is parked for the whole delay and can do nothing else.</li>
 *   <li><b>Synchronous, non-blocking.</b> {@code SocketChannel.read} in non-blocking mode, on a connection whose
 *       peer has not written yet. The call returns {@code 0} at once — "nothing now" — and the thread stays free;
 *       it must ask again later. The peer is only <em>allowed</em> to write after that read returned (the reader
 *       counts down a latch the peer waits on), so "it returned before the data was sent" holds on every run by
 *       construction, not by luck. Meanwhile the thread does slices of other work and polls.</li>
 *   <li><b>Asynchronous.</b> {@code AsynchronousSocketChannel.read(buffer, attachment, handler)}: the call starts the
 *       read and returns at once; when the data arrives, a thread of the channel group runs the
 *       {@code CompletionHandler}. Again the peer writes only after the call returned. The {@code Future} form is
 *       shown beside it: {@code isDone()} is false when the call returns, and {@code get()} turns it back into a
 *       blocking wait.</li>
 *   <li><b>Why it matters — one thread, N connections.</b> N connections to the delayed server, each answered after
 *       D ms. One thread with a {@link Selector} (non-blocking channels plus one call that waits for <em>any</em> of
 *       them to be ready) has all N requests in flight at once and finishes in about D. One thread with blocking
 *       sockets must serve them in turn and needs N×D.</li>
 * </ol>
 * The tables say what each call returned and when; the trace draws one lane per thread, where a span is either the
 * caller blocked inside a call or the caller free (doing other work, or waiting in {@code select()} for all its
 * connections at once).
 *
 * <p>Blocking vs non-blocking is about what the <em>call</em> does while the data is missing (wait, or return
 * "nothing yet"); synchronous vs asynchronous is about <em>who completes</em> the operation (the caller, when it asks,
 * or the system, which calls back later). Python's {@code socket.setblocking(False)} and {@code selectors} are the
 * non-blocking pair; {@code asyncio} streams are the asynchronous model built on them.
 *
 * <p>Run: {@code ./conclab run io-models --trace io.json}. Expect the blocking read to take D, the non-blocking
 * read to return 0 in microseconds, the async call to return at once (a first call also loads classes, so allow a
 * millisecond) with its handler running D later on an {@code aio-handler} thread, the selector to serve N
 * connections in a little over D, and the blocking loop to need N×D (mind the product: the sequential baseline of
 * 2000 connections at 1000 ms takes over half an hour). With a very small D and a large N, opening N connections
 * costs more than the wait itself (about 0.1 ms each on loopback), and the selector's "under 3×D" no longer holds:
 * the claim is about waiting, and then waiting is no longer what dominates.
 */
public final class IoModels implements Experiment {

    static final ClaimSpec BLOCKING_WAITS = new ClaimSpec("blocking-waits",
            "A blocking read does not return until the data arrives: it waits at least the server's delay.");
    static final ClaimSpec NONBLOCKING_RETURNS = new ClaimSpec("nonblocking-returns",
            "A non-blocking read on a socket with no data returns 0 at once, before the data is sent.");
    static final ClaimSpec ASYNC_CALLBACK = new ClaimSpec("async-callback",
            "An asynchronous read returns to the caller before the data arrives; its completion handler runs later.");
    static final ClaimSpec SELECTOR_ONE_THREAD = new ClaimSpec("selector-one-thread",
            "One thread with a Selector serves N connections that each wait D ms in under 3×D; one blocking thread"
                    + " serving them in turn takes at least N×D.");

    /** nanoTime and the server's sleep are both exact, but a measured span may start a hair after the sleep did. */
    private static final double CLOCK_TOLERANCE_MS = 1.0;
    private static final byte[] REQUEST = "ping\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA = "hello".getBytes(StandardCharsets.US_ASCII);
    /** One slice of "other work" between two polls: a few microseconds of CPU. */
    private static final long OTHER_WORK_ROUNDS = 5_000;
    /** How long to wait for an answer that should come after D ms, beyond D, before giving up. */
    private static final long GIVE_UP_MILLIS = 30_000;

    @Override
    public String id() {
        return "io-models";
    }

    @Override
    public String title() {
        return "One socket read, blocking, non-blocking and asynchronous; then N connections on one thread";
    }

    @Override
    public String description() {
        return "Reads from a loopback socket whose data is not there yet in three ways (blocking, non-blocking,"
                + " asynchronous with a completion handler), forcing the order with latches, then serves N delayed"
                + " connections from one thread with a Selector and from one thread with blocking sockets.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("connections", "connections served at once by one thread (N)", 1, 2_000, 200, 50),
                new Param.IntParam("delay-ms", "how long the server waits before answering each request (D)", 1,
                        1_000, 50, 20));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(BLOCKING_WAITS, NONBLOCKING_RETURNS, ASYNC_CALLBACK, SELECTOR_ONE_THREAD);
    }

    /** The sequential baseline takes N×D by design: up to 2000 × 1 s at the parameters' bounds. */
    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(40);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int connections = ctx.intParam("connections");
        int delay = ctx.intParam("delay-ms");
        int repeats = ctx.repeats();
        Table.Builder reads = Table.builder("One read whose data is not there yet (times from the call, in ms)",
                "model", "call", "call returned after ms", "call returned", "peer sent the data at ms",
                "program had the data at ms", "thread that got the data");

        try (DelayedServer server = DelayedServer.start(delay)) {
            ctx.progress(0.02, "blocking read");
            blocking(ctx, server, repeats, reads);
            ctx.progress(0.06, "non-blocking read");
            nonBlocking(ctx, delay, reads);
            ctx.progress(0.10, "asynchronous read");
            asynchronous(ctx, delay, reads);
            ctx.table(reads.build());

            ctx.progress(0.15, connections + " connections: one thread with a Selector");
            selectorVsBlocking(ctx, server, connections, delay, repeats);
        }
        ctx.progress(1, "done");
    }

    // ---- 1. blocking ------------------------------------------------------------------------------------------

    private static void blocking(RunContext ctx, DelayedServer server, int repeats, Table.Builder table)
            throws IOException {
        String lane = "caller · blocking read (" + Thread.currentThread().getName() + ")";
        double earliest = Double.MAX_VALUE;
        double latest = 0;
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < repeats; i++) {
                ctx.checkCancelled();
                long sent = System.nanoTime();
                out.write(REQUEST);
                out.flush();
                long call = System.nanoTime();
                int first = in.read();
                long returned = System.nanoTime();
                if (first < 0) {
                    throw new IOException("the server closed the connection before answering");
                }
                for (int b = first; b != '\n'; b = in.read()) {
                    if (b < 0) {
                        throw new IOException("the server closed the connection mid-answer");
                    }
                }
                ctx.trace().span(lane, "write request", sent, call);
                ctx.trace().span(lane, "read() — blocked until the answer", call, returned);
                double millis = (returned - call) / 1e6;
                earliest = Math.min(earliest, millis);
                latest = Math.max(latest, millis);
            }
        }
        long delay = server.delayMillis();
        table.row("synchronous, blocking", "InputStream.read()", earliest, "the first byte of the answer",
                "after its " + delay + " ms delay", earliest, Thread.currentThread().getName() + " (the caller)");
        ctx.claim(BLOCKING_WAITS, Verdict.check(earliest >= delay - CLOCK_TOLERANCE_MS, String.format(
                "blocking read() returned after %.2f ms at the earliest, %.2f ms at the latest (%d reads); the"
                        + " server waits %d ms before answering (needs ≥ %.0f ms = D − %.0f ms clock tolerance)",
                earliest, latest, repeats, delay, delay - CLOCK_TOLERANCE_MS, CLOCK_TOLERANCE_MS)));
    }

    // ---- 2. non-blocking --------------------------------------------------------------------------------------

    private static void nonBlocking(RunContext ctx, int delay, Table.Builder table) throws Exception {
        String lane = "caller · non-blocking read (" + Thread.currentThread().getName() + ")";
        try (LoopbackPair pair = LoopbackPair.listen(); SocketChannel channel = SocketChannel.open(pair.address())) {
            pair.accept();
            channel.configureBlocking(false);
            CountDownLatch readReturned = new CountDownLatch(1);
            CompletableFuture<PeerWrite> peer = pair.writeWhen(readReturned, Duration.ofMillis(delay), DATA);
            ByteBuffer buffer = ByteBuffer.allocate(64);

            long call = System.nanoTime();
            int first = channel.read(buffer);
            long returned = System.nanoTime();
            readReturned.countDown(); // only now may the peer write

            // The thread is free: it does other work, and asks again between slices.
            long zeros = 0;
            long lastPoll = returned;
            long deadline = returned + TimeUnit.MILLISECONDS.toNanos(delay + GIVE_UP_MILLIS);
            while (buffer.position() < DATA.length) {
                ctx.checkCancelled();
                CpuWork.consume(OTHER_WORK_ROUNDS);
                lastPoll = System.nanoTime();
                int n = channel.read(buffer);
                if (n < 0) {
                    throw new IOException("the peer closed the connection before writing");
                }
                if (n == 0) {
                    zeros++;
                }
                if (lastPoll > deadline) {
                    throw new IOException("the peer did not write within " + GIVE_UP_MILLIS + " ms");
                }
            }
            long got = System.nanoTime();
            PeerWrite wrote = peer.get(5, TimeUnit.SECONDS);

            ctx.trace().span(lane, "read() → " + first, call, returned);
            ctx.trace().span(lane, "free: other work, read() again between slices (" + zeros + "× → 0)",
                    returned, lastPoll);
            ctx.trace().span(lane, "read() → " + DATA.length + " bytes", lastPoll, got);
            ctx.trace().span("peer", "allowed to write; pauses " + delay + " ms", wrote.allowedNanos(),
                    wrote.wroteNanos());
            ctx.trace().span("peer", "write " + DATA.length + " bytes", wrote.wroteNanos(), wrote.wroteNanos());

            double returnedMs = (returned - call) / 1e6;
            double sentMs = (wrote.wroteNanos() - call) / 1e6;
            double gotMs = (got - call) / 1e6;
            table.row("synchronous, non-blocking", "SocketChannel.read() (non-blocking)", returnedMs,
                    first + " bytes; " + zeros + " later polls also → 0", sentMs, gotMs,
                    Thread.currentThread().getName() + " (the caller, when it asked again)");
            boolean holds = first == 0 && returned < wrote.allowedNanos() && buffer.position() == DATA.length;
            ctx.claim(NONBLOCKING_RETURNS, Verdict.check(holds, String.format(
                    "non-blocking read() returned %d after %.3f ms; the peer was allowed to write only after that"
                            + " and wrote at %.2f ms; between slices of other work the thread read again, %d more"
                            + " times → 0, and had all %d bytes at %.2f ms (needs: returns 0, and returns before the"
                            + " peer may write)",
                    first, returnedMs, sentMs, zeros, DATA.length, gotMs)));
        }
    }

    // ---- 3. asynchronous --------------------------------------------------------------------------------------

    /** When the completion handler ran, on which thread, with how many bytes. */
    private record HandlerRun(long atNanos, String thread, int bytes) {
    }

    private static void asynchronous(RunContext ctx, int delay, Table.Builder table) throws Exception {
        String caller = Thread.currentThread().getName();
        String lane = "caller · async read (" + caller + ")";
        AsynchronousChannelGroup group = AsynchronousChannelGroup.withFixedThreadPool(1,
                Thread.ofPlatform().name("aio-handler-", 1).daemon(true).factory());
        try {
            // CompletionHandler form.
            try (LoopbackPair pair = LoopbackPair.listen();
                 AsynchronousSocketChannel channel = AsynchronousSocketChannel.open(group)) {
                channel.connect(pair.address()).get(5, TimeUnit.SECONDS);
                pair.accept();
                CountDownLatch callReturned = new CountDownLatch(1);
                CompletableFuture<PeerWrite> peer = pair.writeWhen(callReturned, Duration.ofMillis(delay), DATA);
                CompletableFuture<HandlerRun> handled = new CompletableFuture<>();
                AtomicBoolean handlerRan = new AtomicBoolean();
                ByteBuffer buffer = ByteBuffer.allocate(64);

                long call = System.nanoTime();
                channel.read(buffer, null, new CompletionHandler<Integer, Void>() {
                    @Override
                    public void completed(Integer bytes, Void attachment) {
                        long at = System.nanoTime();
                        handlerRan.set(true);
                        handled.complete(new HandlerRun(at, Thread.currentThread().getName(), bytes));
                    }

                    @Override
                    public void failed(Throwable e, Void attachment) {
                        handled.completeExceptionally(e);
                    }
                });
                long returned = System.nanoTime();
                boolean ranBeforeReturn = handlerRan.get();
                callReturned.countDown(); // only now may the peer write

                // The caller is free: it does other work until the handler has run.
                long slices = 0;
                long deadline = returned + TimeUnit.MILLISECONDS.toNanos(delay + GIVE_UP_MILLIS);
                while (!handled.isDone()) {
                    ctx.checkCancelled();
                    CpuWork.consume(OTHER_WORK_ROUNDS);
                    slices++;
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the completion handler did not run within " + GIVE_UP_MILLIS + " ms");
                    }
                }
                long freeUntil = System.nanoTime();
                HandlerRun run = handled.get();
                PeerWrite wrote = peer.get(5, TimeUnit.SECONDS);

                ctx.trace().span(lane, "read(buf, att, handler) → returns", call, returned);
                ctx.trace().span(lane, "free: other work (" + slices + " slices)", returned, freeUntil);
                ctx.trace().span("peer", "allowed to write; pauses " + delay + " ms", wrote.allowedNanos(),
                        wrote.wroteNanos());
                ctx.trace().span("peer", "write " + DATA.length + " bytes", wrote.wroteNanos(), wrote.wroteNanos());
                ctx.trace().span(run.thread() + " · completion handler", "completed(" + run.bytes() + " bytes)",
                        run.atNanos(), run.atNanos());

                double returnedMs = (returned - call) / 1e6;
                double sentMs = (wrote.wroteNanos() - call) / 1e6;
                double handlerMs = (run.atNanos() - call) / 1e6;
                table.row("asynchronous (CompletionHandler)", "AsynchronousSocketChannel.read(buf, att, handler)",
                        returnedMs, "nothing (void); the read is pending", sentMs, handlerMs,
                        run.thread() + " (runs the handler)");
                boolean holds = !ranBeforeReturn && returned < wrote.allowedNanos()
                        && run.atNanos() > wrote.wroteNanos() && run.bytes() > 0 && !run.thread().equals(caller);
                ctx.claim(ASYNC_CALLBACK, Verdict.check(holds, String.format(
                        "read(buf, att, handler) returned to %s after %.3f ms with the handler not yet run; the peer"
                                + " was allowed to write only after that and wrote at %.2f ms; meanwhile the caller"
                                + " did %d slices of other work; the handler ran at %.2f ms on %s with %d bytes"
                                + " (needs: call returns before the peer may write, handler runs after the write,"
                                + " on another thread)",
                        caller, returnedMs, sentMs, slices, handlerMs, run.thread(), run.bytes())));
            }

            // Future form: the call is just as asynchronous, but get() makes the caller wait again.
            try (LoopbackPair pair = LoopbackPair.listen();
                 AsynchronousSocketChannel channel = AsynchronousSocketChannel.open(group)) {
                channel.connect(pair.address()).get(5, TimeUnit.SECONDS);
                pair.accept();
                CountDownLatch callReturned = new CountDownLatch(1);
                CompletableFuture<PeerWrite> peer = pair.writeWhen(callReturned, Duration.ofMillis(delay), DATA);
                ByteBuffer buffer = ByteBuffer.allocate(64);
                long call = System.nanoTime();
                Future<Integer> read = channel.read(buffer);
                long returned = System.nanoTime();
                boolean doneAtReturn = read.isDone();
                callReturned.countDown();
                int bytes = read.get(delay + GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
                long got = System.nanoTime();
                PeerWrite wrote = peer.get(5, TimeUnit.SECONDS);
                ctx.trace().span("caller · async read, Future (" + caller + ")", "read(buf) → Future", call,
                        returned);
                ctx.trace().span("caller · async read, Future (" + caller + ")", "Future.get() — blocked", returned,
                        got);
                table.row("asynchronous (Future)", "AsynchronousSocketChannel.read(buf), then get()",
                        (returned - call) / 1e6, "a Future, isDone() = " + doneAtReturn,
                        (wrote.wroteNanos() - call) / 1e6, (got - call) / 1e6,
                        caller + " (blocked in get(): " + bytes + " bytes)");
            }
        } finally {
            group.shutdownNow();
            if (!group.awaitTermination(5, TimeUnit.SECONDS)) {
                ctx.note("the asynchronous channel group did not stop within 5 s");
            }
        }
    }

    // ---- 4. N connections on one thread -----------------------------------------------------------------------

    /** One run over N connections: its wall time and when each answer arrived, in ms since the start. */
    private record Served(double millis, double[] answeredAtMillis) {
    }

    private static void selectorVsBlocking(RunContext ctx, DelayedServer server, int connections, int delay,
                                           int repeats) throws Exception {
        Timing selector = Measure.bestOf(repeats, ctx, () -> viaSelector(ctx, server.port(), connections, delay,
                false));
        Served selectorTraced = viaSelector(ctx, server.port(), connections, delay, true);

        ctx.progress(0.25, connections + " connections: one blocking thread, in turn");
        // One run is enough: every request waits D, so this can only be slower than N×D, never faster.
        Served blocking = inTurn(ctx, server.port(), connections);

        double selectorMs = selector.bestMillis();
        double floor = (double) connections * delay;
        ctx.table(Table.builder(connections + " connections, each answered after " + delay + " ms, on one client"
                                + " thread", "model", "client threads", "runs", "wall ms (best)", "× D",
                        "÷ (N×D)")
                .row("non-blocking, one Selector", 1, repeats, selectorMs, selectorMs / delay, selectorMs / floor)
                .row("blocking, one request at a time", 1, 1, blocking.millis(), blocking.millis() / delay,
                        blocking.millis() / floor)
                .build());
        ctx.series(new Series("Wall time to serve N connections", "wall ms",
                "model (1 Selector · 1 thread, 2 blocking · 1 thread)", "ms",
                List.of(new Series.Point(1, selectorMs), new Series.Point(2, blocking.millis()))));
        ctx.series(answersOverTime("one thread + Selector", selectorTraced));
        ctx.series(answersOverTime("one thread, blocking, in turn", blocking));

        boolean holds = selectorMs < 3.0 * delay && blocking.millis() >= floor;
        ctx.claim(SELECTOR_ONE_THREAD, Verdict.check(holds, String.format(
                "one thread with a Selector: %.1f ms for %d connections, best of %d (needs < %d ms = 3×D); one"
                        + " blocking thread in turn: %.1f ms (needs ≥ %.0f ms = N×D); %.0f× apart",
                selectorMs, connections, repeats, 3 * delay, blocking.millis(), floor,
                blocking.millis() / selectorMs)));
    }

    private static Series answersOverTime(String name, Served served) {
        List<Series.Point> points = new ArrayList<>(served.answeredAtMillis().length + 1);
        points.add(new Series.Point(0, 0));
        double[] at = served.answeredAtMillis().clone();
        Arrays.sort(at);
        for (int i = 0; i < at.length; i++) {
            points.add(new Series.Point(at[i], i + 1));
        }
        return new Series("Answers received over time", name, "ms since the first connect", "answers", points);
    }

    /** Per-connection state of the selector client, confined to the selector's thread. */
    private static final class Conn {
        final ByteBuffer request = ByteBuffer.wrap(REQUEST);
        final ByteBuffer answer = ByteBuffer.allocate(16);
    }

    /** One thread: open N non-blocking connections, send every request, collect every answer with one Selector. */
    private static Served viaSelector(RunContext ctx, int port, int connections, int delay, boolean traced)
            throws IOException {
        String lane = "selector · 1 thread (" + Thread.currentThread().getName() + ")";
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        double[] answeredAt = new double[connections];
        int answered = 0;
        List<SocketChannel> channels = new ArrayList<>(connections);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(delay + GIVE_UP_MILLIS);
        try (Selector selector = Selector.open()) {
            try {
                for (int i = 0; i < connections; i++) {
                    SocketChannel channel = SocketChannel.open();
                    channels.add(channel);
                    channel.configureBlocking(false);
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    Conn conn = new Conn();
                    if (channel.connect(address)) {
                        send(channel, conn);
                        channel.register(selector, SelectionKey.OP_READ, conn);
                    } else {
                        channel.register(selector, SelectionKey.OP_CONNECT, conn);
                    }
                }
                long opened = System.nanoTime();
                if (traced) {
                    ctx.trace().span(lane, "open " + connections + " non-blocking connections", start, opened);
                }
                while (answered < connections) {
                    ctx.checkCancelled();
                    long waitFrom = System.nanoTime();
                    int ready = selector.select(100);
                    long woke = System.nanoTime();
                    if (traced) {
                        ctx.trace().span(lane, "select() — waiting on all " + (connections - answered), waitFrom,
                                woke);
                    }
                    if (ready == 0) {
                        if (woke > deadline) {
                            throw new IOException("only " + answered + " of " + connections + " answers within "
                                    + (delay + GIVE_UP_MILLIS) + " ms");
                        }
                        continue;
                    }
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    int handled = 0;
                    while (keys.hasNext()) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        SocketChannel channel = (SocketChannel) key.channel();
                        Conn conn = (Conn) key.attachment();
                        handled++;
                        if (key.isConnectable()) {
                            channel.finishConnect();
                            send(channel, conn);
                            key.interestOps(SelectionKey.OP_READ);
                        } else if (key.isReadable()) {
                            if (channel.read(conn.answer) < 0) {
                                throw new IOException("the server closed a connection before answering");
                            }
                            int end = conn.answer.position();
                            if (end > 0 && conn.answer.get(end - 1) == '\n') {
                                answeredAt[answered++] = (System.nanoTime() - start) / 1e6;
                                key.cancel();
                                channel.close();
                            }
                        }
                    }
                    if (traced) {
                        ctx.trace().span(lane, "handle " + handled + " ready", woke, System.nanoTime());
                    }
                }
            } finally {
                for (SocketChannel channel : channels) {
                    channel.close();
                }
            }
        }
        return new Served((System.nanoTime() - start) / 1e6, answeredAt);
    }

    private static void send(SocketChannel channel, Conn conn) throws IOException {
        while (conn.request.hasRemaining()) {
            channel.write(conn.request); // five bytes into an empty socket buffer: one call
        }
    }

    /** One thread with blocking sockets: connect, send, wait for the answer, close; then the next. */
    private static Served inTurn(RunContext ctx, int port, int connections) throws IOException {
        String lane = "blocking · 1 thread (" + Thread.currentThread().getName() + ")";
        double[] answeredAt = new double[connections];
        long start = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            ctx.checkCancelled();
            long from = System.nanoTime();
            DelayedServer.request(port);
            long to = System.nanoTime();
            ctx.trace().span(lane, "request " + (i + 1) + " — blocked", from, to);
            answeredAt[i] = (to - start) / 1e6;
            if (i % 16 == 15) {
                ctx.progress(0.25 + 0.75 * (i + 1) / connections, "blocking, in turn: " + (i + 1) + " of "
                        + connections);
            }
        }
        return new Served((System.nanoTime() - start) / 1e6, answeredAt);
    }
}
