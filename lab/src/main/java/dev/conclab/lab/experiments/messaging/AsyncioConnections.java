package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.messaging.EventLoopTransportEcho.Transport;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How one asyncio thread serves thousands of connections, and the one thing that stops it: N loopback TCP
 * connections to an echo server, all served by one thread and one selector, in CPython and on Netty's event loop.
 * <ol>
 *   <li><b>Held.</b> CPython ({@code asyncio_connections.py}): {@code asyncio.start_server} with a handler coroutine
 *       per connection, and N clients from {@code asyncio.open_connection}, all on one loop. The probe counts the
 *       process's OS threads ({@code /proc/self/task}), names the selector ({@code EpollSelector}, which
 *       {@code selectors.DefaultSelector} is on Linux), counts the sockets it watches, and weighs each connection
 *       (both ends and both coroutines) with {@code tracemalloc} and the resident set. JVM: a Netty echo server on a
 *       {@code MultiThreadIoEventLoopGroup} of one NIO thread, N clients on a second one-thread group; the server's
 *       group's threads and the distinct event loops its channels were registered with are counted, and the heap
 *       per connection is read after a full GC.</li>
 *   <li><b>One round.</b> Every connection sends one message and awaits its echo, all at once (best of several):
 *       the cost per round trip on one thread.</li>
 *   <li><b>Broken — a blocking handler.</b> One handler makes a blocking call ({@code time.sleep(B)}, a stand-in
 *       for a synchronous database driver; {@code Thread.sleep(B)} on the event loop on the JVM) while every other
 *       connection has a ping in flight. The ordering is forced: in CPython every ping is written before the loop
 *       runs again (so before the handler starts); on the JVM the handler waits on a latch that opens only once
 *       every ping has been handed to the kernel, then blocks. Every echo comes back after the call returned, every
 *       ping takes at least B: one stuck callback stalls every connection.</li>
 *   <li><b>The fix.</b> The same call in {@code asyncio.to_thread} (a virtual thread on the JVM): the other pings
 *       are answered while it is still running.</li>
 *   <li><b>Seeing it.</b> {@code loop.set_debug(True)} and a handler that blocks for longer than
 *       {@code loop.slow_callback_duration} (0.1 s): asyncio logs "Executing &lt;Task …&gt; took X seconds".</li>
 *   <li><b>A limit per connection.</b> A line longer than the {@code StreamReader}'s limit (64 KiB by default, the
 *       {@code limit} argument of {@code start_server}/{@code open_connection}) makes {@code readline()} raise
 *       {@code ValueError} instead of buffering it.</li>
 * </ol>
 *
 * <p>Run: {@code ./conclab run asyncio-connections} (3,000 connections) or {@code --quick} (300). Expect one OS
 * thread and one epoll selector in CPython, one event-loop thread on the JVM, about 8 KB of Python heap per
 * connection (both ends), every ping of the broken variant late by at least B, and none of the fixed one.
 */
public final class AsyncioConnections implements Experiment {

    static final ClaimSpec PY_ONE_THREAD = new ClaimSpec("py-one-thread",
            "asyncio holds and serves N connections on one OS thread, with one epoll selector (EpollSelector, the"
                    + " DefaultSelector on Linux) watching every socket: both ends of each connection and the"
                    + " listening socket.");
    static final ClaimSpec PY_MEMORY = new ClaimSpec("py-memory",
            "A connection costs asyncio under 16 KB of Python heap (tracemalloc), both ends and both coroutines"
                    + " counted.");
    static final ClaimSpec PY_BLOCKED = new ClaimSpec("py-blocked",
            "Broken: while one handler makes a blocking call of B ms, no other connection is served: every ping in"
                    + " flight gets its echo only after the call returned, at least B ms after it was sent.");
    static final ClaimSpec PY_OFFLOADED = new ClaimSpec("py-offloaded",
            "With the same call in asyncio.to_thread, at least 90% of the other pings are answered while it is still"
                    + " running.");
    static final ClaimSpec PY_DEBUG = new ClaimSpec("py-debug",
            "Debug mode names the handler that blocked the loop for longer than loop.slow_callback_duration (0.1 s):"
                    + " “Executing <Task …> took X seconds”.");
    static final ClaimSpec PY_LIMIT = new ClaimSpec("py-limit",
            "StreamReader.readline() raises ValueError for a line longer than the stream's limit (64 KiB by"
                    + " default) instead of buffering it.");
    static final ClaimSpec JVM_ONE_THREAD = new ClaimSpec("jvm-one-thread",
            "A Netty server on an event-loop group of one thread serves the same N connections from that one"
                    + " thread: every accepted channel is registered with the same event loop.");
    static final ClaimSpec JVM_MEMORY = new ClaimSpec("jvm-memory",
            "A connection costs Netty under 16 KB of Java heap, both ends counted.");
    static final ClaimSpec JVM_BLOCKED = new ClaimSpec("jvm-blocked",
            "Broken: a handler that blocks its event loop for B ms stalls every other channel of that loop: every"
                    + " ping in flight gets its echo only after the call returned, at least B ms after it was sent.");
    static final ClaimSpec JVM_OFFLOADED = new ClaimSpec("jvm-offloaded",
            "With the call on a virtual thread of its own, at least 90% of the other pings are answered while it is"
                    + " still running.");

    private static final int PY_MEMORY_LIMIT = 16 * 1024;
    private static final int JVM_MEMORY_LIMIT = 16 * 1024;

    @Override
    public String id() {
        return "asyncio-connections";
    }

    @Override
    public String title() {
        return "Thousands of connections on one asyncio thread (and one Netty event loop): threads, selector, memory"
                + " per connection, and the blocking handler that stalls them all";
    }

    @Override
    public String description() {
        return "Opens N loopback TCP connections to an echo server on one asyncio loop and on a one-thread Netty"
                + " event loop; counts threads and watched sockets, weighs a connection, times a round of echoes,"
                + " then forces a blocking handler to run while every other connection has a ping in flight, and"
                + " moves the call off the loop; asyncio's debug mode and StreamReader limit are shown too.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("connections", "connections held at once (N)", 10, 8_000, 3_000, 300),
                new Param.IntParam("block-ms", "how long the blocking handler blocks, in ms (B)", 20, 10_000, 2_000,
                        150),
                new Param.IntParam("slow-ms", "how long the handler blocks in the debug-mode part, in ms (over the"
                        + " 100 ms slow-callback duration)", 110, 5_000, 150, 150));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_ONE_THREAD, PY_MEMORY, PY_BLOCKED, PY_OFFLOADED, PY_DEBUG, PY_LIMIT, JVM_ONE_THREAD,
                JVM_MEMORY, JVM_BLOCKED, JVM_OFFLOADED);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(10);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("connections");
        int blockMs = ctx.intParam("block-ms");
        Table.Builder table = Table.builder(String.format("%,d loopback TCP connections to an echo server on one"
                        + " thread; a handler blocking for B = %d ms", n, blockMs),
                "side", "model", "OS threads serving", "watched / loops", "heap B/conn", "RSS B/conn",
                "round of N echoes ms", "µs / round trip", "blocked: min ping ms", "blocked: echoes after call",
                "offloaded: max ping ms", "offloaded: echoes during call");
        ctx.progress(0.05, "CPython: asyncio_connections.py");
        python(ctx, n, blockMs, table);
        ctx.progress(0.5, "JVM: Netty, one NIO event loop");
        jvm(ctx, n, blockMs, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int n, int blockMs, Table.Builder table) throws Exception {
        Duration budget = Duration.ofSeconds(60 + n / 50 + 3L * blockMs / 1000);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("asyncio_connections.py", List.of(), budget,
                "--connections", Integer.toString(n), "--block-ms", Integer.toString(blockMs),
                "--slow-ms", Integer.toString(ctx.intParam("slow-ms")),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_ONE_THREAD, PY_MEMORY, PY_BLOCKED, PY_OFFLOADED, PY_DEBUG, PY_LIMIT);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran, n, blockMs, table);
        }
    }

    private static void judgePython(RunContext ctx, ProbeOutcome.Ran ran, int n, int blockMs, Table.Builder table) {
        JsonNode j = ran.json();
        JsonNode held = j.path("held");
        JsonNode round = j.path("round");
        JsonNode blocked = j.path("blocked");
        JsonNode offloaded = j.path("offloaded");
        int threads = held.path("os_threads").asInt(-1);
        int roundThreads = round.path("os_threads").asInt(-1);
        int watched = held.path("watched_sockets").asInt();
        String selector = j.path("selector_class").asText();
        double heap = held.path("heap_per_connection_b").asDouble();
        int pings = blocked.path("pings").asInt();
        table.row("CPython " + ran.interpreter().version(), j.path("loop_class").asText() + " + " + selector,
                threads, watched + " sockets", heap, held.path("rss_per_connection_b").asDouble(),
                round.path("all_ms").asDouble(), round.path("per_round_trip_us").asDouble(),
                blocked.path("min_ms").asDouble(), blocked.path("echoes_after_block_ended").asInt() + " / " + pings,
                offloaded.path("max_ms").asDouble(),
                (pings - offloaded.path("echoes_after_block_ended").asInt()) + " / " + pings);

        // 2N sockets of the connections, the listening socket, and the loop's self-pipe (how other threads wake it)
        ctx.claim(PY_ONE_THREAD, Verdict.check(threads == 1 && roundThreads == 1 && watched >= 2 * n + 1
                        && "EpollSelector".equals(selector) && "EpollSelector".equals(j.path("default_selector").asText()),
                String.format("%,d connections held: %d OS thread(s) in the process (%d during a round of echoes), the"
                                + " loop's selector %s (DefaultSelector: %s) watching %,d sockets (needs 1 thread, an"
                                + " EpollSelector, ≥ 2N + 1 = %,d sockets)", n, threads, roundThreads, selector,
                        j.path("default_selector").asText(), watched, 2 * n + 1)));
        ctx.claim(PY_MEMORY, Verdict.check(heap < PY_MEMORY_LIMIT, String.format("%,.0f B of Python heap per"
                        + " connection (tracemalloc, both ends, %,d connections; needs < %,d B); %,.0f B of resident"
                        + " memory", heap, n, PY_MEMORY_LIMIT, held.path("rss_per_connection_b").asDouble())));
        judgeBlocked(ctx, PY_BLOCKED, pings, blocked.path("sent_before_block_started").asInt(),
                blocked.path("echoes_after_block_ended").asInt(), blocked.path("min_ms").asDouble(), blockMs);
        int offPings = offloaded.path("pings").asInt();
        judgeOffloaded(ctx, PY_OFFLOADED, offPings, offPings - offloaded.path("echoes_after_block_ended").asInt(),
                offloaded.path("max_ms").asDouble(), blockMs);

        JsonNode debug = j.path("debug");
        List<String> reports = strings(debug.path("reports"));
        boolean named = reports.stream().anyMatch(r -> r.startsWith("Executing <Task") && r.contains("took")
                && r.contains("handle"));
        ctx.claim(PY_DEBUG, Verdict.check(named && debug.path("slow_callback_duration_s").asDouble() == 0.1,
                String.format("a handler blocking %d ms with loop.slow_callback_duration = %s s: %d report(s)%s",
                        debug.path("blocked_ms").asInt(), debug.path("slow_callback_duration_s").asText(),
                        reports.size(), reports.isEmpty() ? "" : ": " + shorten(reports.getFirst()))));
        JsonNode limit = j.path("limit");
        String error = limit.path("error").asText("");
        ctx.claim(PY_LIMIT, Verdict.check(error.startsWith("ValueError") && limit.path("default_limit").asInt() == 65536,
                String.format("a %,d-byte line with the default limit of %,d bytes: %s", limit.path("line_bytes").asInt(),
                        limit.path("default_limit").asInt(), error.isEmpty() ? "no error (read whole)" : error)));
    }

    private static List<String> strings(JsonNode array) {
        return array.isArray() ? java.util.stream.StreamSupport.stream(array.spliterator(), false)
                .map(JsonNode::asText).toList() : List.of();
    }

    /** asyncio's report names the task with its coroutine; the rest (where its future was created) is long. */
    private static String shorten(String report) {
        int wait = report.indexOf(" wait_for=");
        int took = report.lastIndexOf(" took ");
        return wait > 0 && took > wait ? report.substring(0, wait) + " …>" + report.substring(took) : report;
    }

    private static void judgeBlocked(RunContext ctx, ClaimSpec claim, int pings, int sentBefore, int echoesAfter,
                                     double minMs, int blockMs) {
        ctx.claim(claim, Verdict.check(pings > 0 && sentBefore == pings && echoesAfter == pings && minMs >= blockMs,
                String.format("%,d pings in flight while the call ran (%,d sent before it started): %,d echoed after"
                                + " it returned; the fastest took %.1f ms (needs all %,d after, and ≥ B = %d ms)",
                        pings, sentBefore, echoesAfter, minMs, pings, blockMs)));
    }

    private static void judgeOffloaded(RunContext ctx, ClaimSpec claim, int pings, int during, double maxMs,
                                       int blockMs) {
        ctx.claim(claim, Verdict.check(pings > 0 && during >= 0.9 * pings, String.format(
                "%,d of %,d pings echoed while the %d ms call was still running (needs ≥ 90%%); the slowest took %.1f"
                        + " ms", during, pings, blockMs, maxMs)));
    }

    // ---- JVM: Netty, one NIO event loop -------------------------------------------------------------------------

    private static void jvm(RunContext ctx, int n, int blockMs, Table.Builder table) throws Exception {
        long heapBefore;
        long heapAfter;
        try (EventLoopTransportEcho echo = new EventLoopTransportEcho(Transport.NIO, 1, 1, n)) {
            heapBefore = heapAfterGc();
            echo.connect(n);
            echo.pingPong(1); // every server-side channel has been read from once
            heapAfter = heapAfterGc();
            double heap = (double) (heapAfter - heapBefore) / n;
            int threads = echo.serverThreads();
            int loops = echo.serverLoopsUsed();

            ctx.checkCancelled();
            double roundMs = Measure.bestOf(ctx.repeats(), ctx, () -> echo.pingPong(1)).bestMillis();

            ctx.progress(0.7, "JVM: a handler blocking its event loop");
            Stall blocked = stall(echo, blockMs, false);
            ctx.progress(0.85, "JVM: the call on a virtual thread");
            Stall offloaded = stall(echo, blockMs, true);

            table.row("JVM " + Runtime.version().feature(), "Netty " + echo.serverChannelClass()
                            + ", MultiThreadIoEventLoopGroup(1, NioIoHandler)", threads, loops + " event loop(s)",
                    heap, "", roundMs, roundMs * 1000 / n, blocked.minMs(), blocked.after() + " / " + blocked.pings(),
                    offloaded.maxMs(), (offloaded.pings() - offloaded.after()) + " / " + offloaded.pings());
            ctx.claim(JVM_ONE_THREAD, Verdict.check(threads == 1 && loops == 1, String.format(
                    "%,d connections: the server's group started %d thread(s); its channels were registered with %d"
                            + " event loop(s) (needs 1 and 1)", n, threads, loops)));
            ctx.claim(JVM_MEMORY, Verdict.check(heap < JVM_MEMORY_LIMIT, String.format("%,.0f B of Java heap per"
                    + " connection after a full GC (both ends, %,d connections; needs < %,d B; Netty's pooled direct"
                    + " buffers are off-heap and not counted)", heap, n, JVM_MEMORY_LIMIT)));
            judgeBlocked(ctx, JVM_BLOCKED, blocked.pings(), blocked.pings(), blocked.after(), blocked.minMs(), blockMs);
            judgeOffloaded(ctx, JVM_OFFLOADED, offloaded.pings(), offloaded.pings() - offloaded.after(),
                    offloaded.maxMs(), blockMs);
        }
    }

    /** What the other connections saw while one handler made a blocking call. */
    private record Stall(int pings, int after, double minMs, double maxMs) {
    }

    /**
     * Connection 0 asks for the blocking call; its handler starts, then waits until every other connection's ping
     * has been handed to the kernel, and only then blocks for {@code blockMs}: every ping is in flight during the
     * call, whatever the threads' timing.
     */
    private static Stall stall(EventLoopTransportEcho echo, int blockMs, boolean offload) throws Exception {
        int n = echo.connections();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch allSent = new CountDownLatch(1);
        CountDownLatch echoed = new CountDownLatch(n);
        long[] sent = new long[n];
        long[] received = new long[n];
        long[] ended = new long[1];
        echo.onBlock(() -> {
            started.countDown();
            if (!allSent.await(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the pings were not sent within a minute");
            }
            Thread.sleep(blockMs); // Broken on the loop: a synchronous call
            ended[0] = System.nanoTime();
        }, offload);
        echo.onEcho((index, nanos) -> {
            received[index] = nanos;
            echoed.countDown();
        });
        try {
            echo.block(0);
            if (!started.await(1, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the blocking handler did not start within a minute");
            }
            for (int i = 1; i < n; i++) {
                sent[i] = System.nanoTime();
                echo.pingFlushed(i);
            }
            allSent.countDown();
            if (!echoed.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("echoes missing after two minutes: " + echoed.getCount());
            }
        } finally {
            allSent.countDown();
            echo.onEcho((index, nanos) -> { });
            echo.onBlock(() -> { }, false);
        }
        // ended[] was written before the blocker's echo, which the latch above has seen: a happens-before edge
        int after = 0;
        double[] latencies = new double[n - 1];
        for (int i = 1; i < n; i++) {
            after += received[i] >= ended[0] ? 1 : 0;
            latencies[i - 1] = (received[i] - sent[i]) / 1e6;
        }
        Arrays.sort(latencies);
        return new Stall(n - 1, after, latencies[0], latencies[n - 2]);
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
