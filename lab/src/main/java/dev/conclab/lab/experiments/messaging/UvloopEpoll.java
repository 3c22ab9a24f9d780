package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.messaging.EventLoopTransportEcho.Transport;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.channels.Selector;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a faster event loop buys: uvloop (asyncio's loop rewritten in Cython on libuv) against asyncio's default
 * loop, and Netty's native epoll transport against its NIO one, on the same echo traffic in the same run.
 * <ol>
 *   <li><b>CPython</b> ({@code uvloop_echo.py}): an echo server and C clients on one loop; every client does M
 *       round trips of 8 bytes, all clients at once, written twice — with streams ({@code start_server},
 *       {@code open_connection}, {@code readexactly}) and with Protocols ({@code data_received} writes back). BASELINE:
 *       the default loop ({@code _UnixSelectorEventLoop} on an {@code EpollSelector}); variant: the same code on
 *       {@code uvloop.new_event_loop()}. The loops take turns; the best wall time and the best process CPU time of
 *       each are kept. The probe also reports what each loop is: its class, whether it is an
 *       {@code asyncio.AbstractEventLoop}, its Python selector (uvloop has none: libuv drives epoll in C), and the
 *       process's OS threads before and after uvloop's first connection, in this process and in a fresh one with
 *       {@code UV_THREADPOOL_SIZE=2}: libuv's thread pool (for getaddrinfo and file work) starts beside the loop
 *       thread.</li>
 *   <li><b>JVM</b>: a Netty echo server on a {@code MultiThreadIoEventLoopGroup} of one thread and C clients on a
 *       second one, the same M round trips of 8 bytes. BASELINE: {@code NioIoHandler} (the JDK's
 *       {@link Selector}, which on Linux is {@code sun.nio.ch.EPollSelectorImpl}: epoll already); variant:
 *       {@code EpollIoHandler}, Netty's own JNI binding to epoll (edge-triggered). Taking turns, best wall time and
 *       best CPU time of the event-loop threads. SKIPPED with the reason when {@code Epoll.isAvailable()} is
 *       false. Each transport runs once untimed first, so that neither is measured with cold code. The heap
 *       the event-loop threads allocate per round trip is read too ({@code getThreadAllocatedBytes}): Netty's own
 *       description of its native transport is "less garbage".</li>
 * </ol>
 * The ratios are judged on CPU time per round trip: on a shared two-core machine the wall time of a run swings
 * with whatever else runs, while the CPU a loop spends on a round trip does much less. Both loops pay the same
 * kernel work for loopback TCP (a send, a wake-up, a receive, each way), so the gain of the faster loop is diluted
 * by it: expect tens of per cent here, not uvloop's own "2–4×" (measured by its authors on other workloads).
 *
 * <p>Run: {@code ./conclab run uvloop-epoll} (200 connections × 200 round trips) or {@code --quick}
 * (50 × 40).
 */
public final class UvloopEpoll implements Experiment {

    static final ClaimSpec UVLOOP_IS_A_LOOP = new ClaimSpec("uvloop-is-a-loop",
            "uvloop replaces the event loop, not the program: the same coroutines run on uvloop.Loop, an"
                    + " asyncio.AbstractEventLoop with no Python selector, and its first connection starts libuv's"
                    + " thread pool (4 threads by default, UV_THREADPOOL_SIZE=2 gives 2) beside the one loop thread,"
                    + " while asyncio's default loop runs on its EpollSelector with no other thread.");
    static final ClaimSpec UVLOOP_CHEAPER = new ClaimSpec("uvloop-cheaper",
            "The same streams echo code costs less CPU per round trip on uvloop than on asyncio's default loop (at"
                    + " least 1.1× less, best of several runs).");
    static final ClaimSpec NIO_IS_EPOLL = new ClaimSpec("nio-is-epoll",
            "On Linux the JDK's own NIO Selector is already built on epoll (sun.nio.ch.EPollSelectorImpl): Netty's"
                    + " native transport is a second binding to epoll, not epoll instead of something else.");
    static final ClaimSpec EPOLL_LESS_GARBAGE = new ClaimSpec("epoll-less-garbage",
            "Netty's native epoll transport allocates less heap per round trip than its NIO transport on the same"
                    + " echo traffic (at most 0.8× as much, best of several runs).");
    static final ClaimSpec EPOLL_CPU = new ClaimSpec("epoll-cpu",
            "In CPU per round trip Netty's epoll transport costs at most 1.5× what its NIO transport does (best of"
                    + " several runs): both wait on epoll, so neither can be far behind.");

    /** The least asyncio ÷ uvloop ratio of CPU per round trip that counts as cheaper. */
    static final double UVLOOP_MIN_RATIO = 1.1;
    /** epoll's heap allocated per round trip, as a share of NIO's, at most. */
    static final double EPOLL_MAX_GARBAGE = 0.8;
    /** epoll's CPU per round trip, as a share of NIO's, at most. */
    static final double EPOLL_CPU_HIGH = 1.5;

    @Override
    public String id() {
        return "uvloop-epoll";
    }

    @Override
    public String title() {
        return "uvloop (libuv) vs asyncio's loop, Netty epoll vs Netty NIO: the same echo round trips, what each"
                + " loop is underneath, and what it saves";
    }

    @Override
    public String description() {
        return "Runs many concurrent echo round trips over loopback TCP on asyncio's default loop and on uvloop"
                + " (streams and Protocols), and on Netty's NIO and native epoll transports, taking turns in one run;"
                + " compares CPU per round trip and wall time, and shows what each loop is made of: its class, its"
                + " selector and its threads.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("connections", "client connections, all at once (C)", 1, 5_000, 200, 50),
                new Param.IntParam("rounds", "round trips per connection (M)", 1, 100_000, 200, 40));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(UVLOOP_IS_A_LOOP, UVLOOP_CHEAPER, NIO_IS_EPOLL, EPOLL_LESS_GARBAGE, EPOLL_CPU);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(15);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int c = ctx.intParam("connections");
        int m = ctx.intParam("rounds");
        Table.Builder table = Table.builder(String.format("%,d connections × %,d echo round trips of %d bytes over"
                        + " loopback TCP, server and clients on one-thread loops; best of %d", c, m,
                EventLoopTransportEcho.MESSAGE, ctx.repeats()),
                "side", "loop / transport", "API", "what it runs on", "OS threads", "round trips/s (wall)",
                "CPU µs / round trip", "CPU ÷ baseline's", "loop heap B / round trip");
        ctx.progress(0.05, "CPython: uvloop_echo.py");
        python(ctx, c, m, table);
        ctx.progress(0.5, "JVM: Netty NIO and epoll");
        jvm(ctx, c, m, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int c, int m, Table.Builder table) throws Exception {
        Duration budget = Duration.ofSeconds(60 + (long) c * m * ctx.repeats() / 2_000);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("uvloop_echo.py", List.of("uvloop"), budget,
                "--connections", Integer.toString(c), "--rounds", Integer.toString(m),
                "--repeat", Integer.toString(Math.max(5, ctx.repeats()))); // short runs: best of 5 at least
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, UVLOOP_IS_A_LOOP, UVLOOP_CHEAPER);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran, table);
        }
    }

    private static void judgePython(RunContext ctx, ProbeOutcome.Ran ran, Table.Builder table) {
        JsonNode j = ran.json();
        JsonNode runs = j.path("runs");
        JsonNode loops = j.path("loops");
        String py = "CPython " + ran.interpreter().version() + ", uvloop " + j.path("uvloop_version").asText();
        for (String api : List.of("streams", "protocols")) {
            double base = runs.path("asyncio_" + api).path("cpu_us_per_round_trip").asDouble();
            for (String loop : List.of("asyncio", "uvloop")) {
                JsonNode r = runs.path(loop + "_" + api);
                JsonNode facts = loops.path(loop);
                String underneath = facts.path("selector_class").isNull() ? "libuv (no Python selector)"
                        : facts.path("selector_class").asText();
                table.row(py, facts.path("loop_class").asText(), api, underneath,
                        r.path("threads_before").asInt() + " → " + r.path("threads_after").asInt(),
                        r.path("round_trips_per_s").asDouble(), r.path("cpu_us_per_round_trip").asDouble(),
                        r.path("cpu_us_per_round_trip").asDouble() / base, "");
            }
        }

        JsonNode uv = loops.path("uvloop");
        JsonNode firstAsyncio = runs.path("asyncio_streams");
        JsonNode firstUv = runs.path("uvloop_streams");
        JsonNode pool2 = j.path("threads_with_pool_of_2");
        int uvStarted = firstUv.path("threads_after").asInt() - firstUv.path("threads_before").asInt();
        int pool2Started = pool2.path("after").asInt() - pool2.path("before").asInt();
        boolean asyncioAlone = firstAsyncio.path("threads_before").asInt() == 1
                && firstAsyncio.path("threads_after").asInt() == 1
                && "EpollSelector".equals(loops.path("asyncio").path("selector_class").asText());
        ctx.claim(UVLOOP_IS_A_LOOP, Verdict.check("uvloop.Loop".equals(uv.path("loop_class").asText())
                        && uv.path("abstract_event_loop").asBoolean() && uv.path("selector_class").isNull()
                        && uvStarted == 4 && pool2Started == 2 && asyncioAlone,
                String.format("uvloop's loop: %s (AbstractEventLoop: %s, Python selector: %s); its first connection"
                                + " took the process from %d to %d OS threads (+%d; needs +4), and from %d to %d (+%d;"
                                + " needs +2) in a fresh process with UV_THREADPOOL_SIZE=2; asyncio's loop: %s on %s,"
                                + " %d → %d thread(s) (needs 1 → 1)", uv.path("loop_class").asText(),
                        uv.path("abstract_event_loop").asText(), uv.path("selector_class").asText("none"),
                        firstUv.path("threads_before").asInt(), firstUv.path("threads_after").asInt(), uvStarted,
                        pool2.path("before").asInt(), pool2.path("after").asInt(), pool2Started,
                        loops.path("asyncio").path("loop_class").asText(),
                        loops.path("asyncio").path("selector_class").asText(),
                        firstAsyncio.path("threads_before").asInt(), firstAsyncio.path("threads_after").asInt())));

        double streams = ratio(runs, "streams");
        double protocols = ratio(runs, "protocols");
        ctx.claim(UVLOOP_CHEAPER, Verdict.check(streams >= UVLOOP_MIN_RATIO, String.format(
                "CPU per round trip, asyncio ÷ uvloop: streams %.2f× (needs ≥ %.1f×; %.1f vs %.1f µs), Protocols"
                        + " %.2f× (not judged; %.1f vs %.1f µs); wall-clock round trips/s, uvloop ÷ asyncio: streams"
                        + " %.2f×, Protocols %.2f×", streams, UVLOOP_MIN_RATIO,
                runs.path("asyncio_streams").path("cpu_us_per_round_trip").asDouble(),
                runs.path("uvloop_streams").path("cpu_us_per_round_trip").asDouble(), protocols,
                runs.path("asyncio_protocols").path("cpu_us_per_round_trip").asDouble(),
                runs.path("uvloop_protocols").path("cpu_us_per_round_trip").asDouble(),
                wallRatio(runs, "streams"), wallRatio(runs, "protocols"))));
    }

    private static double ratio(JsonNode runs, String api) {
        return runs.path("asyncio_" + api).path("cpu_us_per_round_trip").asDouble()
                / runs.path("uvloop_" + api).path("cpu_us_per_round_trip").asDouble();
    }

    private static double wallRatio(JsonNode runs, String api) {
        return runs.path("uvloop_" + api).path("round_trips_per_s").asDouble()
                / runs.path("asyncio_" + api).path("round_trips_per_s").asDouble();
    }

    // ---- JVM: Netty NIO and native epoll ------------------------------------------------------------------------

    /** The best of several runs of one transport. */
    private record Best(double wallSeconds, double cpuSeconds, long allocatedBytes, int serverThreads,
                        String serverChannel) {
        double perSecond(long roundTrips) {
            return roundTrips / wallSeconds;
        }

        double cpuMicrosPer(long roundTrips) {
            return cpuSeconds * 1e6 / roundTrips;
        }

        double bytesPer(long roundTrips) {
            return (double) allocatedBytes / roundTrips;
        }
    }

    private static void jvm(RunContext ctx, int c, int m, Table.Builder table) throws Exception {
        String selectorClass;
        try (Selector selector = Selector.open()) {
            selectorClass = selector.getClass().getName();
        }
        ctx.claim(NIO_IS_EPOLL, Verdict.check(selectorClass.equals("sun.nio.ch.EPollSelectorImpl"), String.format(
                "Selector.open() on %s returned a %s (needs sun.nio.ch.EPollSelectorImpl)",
                System.getProperty("os.name"), selectorClass)));

        List<Transport> transports = Transport.EPOLL.unavailable().isEmpty()
                ? List.of(Transport.NIO, Transport.EPOLL) : List.of(Transport.NIO);
        Transport.EPOLL.unavailable().ifPresent(reason -> {
            ctx.claim(EPOLL_LESS_GARBAGE, Verdict.skipped(reason));
            ctx.claim(EPOLL_CPU, Verdict.skipped(reason));
        });
        Map<Transport, Best> best = new EnumMap<>(Transport.class);
        long roundTrips = (long) c * m;
        for (Transport t : transports) {
            once(t, c, m); // warm-up, not counted: neither transport's code should be measured while still cold
        }
        for (int run = 0; run < ctx.repeats(); run++) { // taking turns spreads a slow spell over both transports
            for (Transport t : transports) {
                ctx.checkCancelled();
                Best once = once(t, c, m);
                best.merge(t, once, (a, b) -> new Best(Math.min(a.wallSeconds(), b.wallSeconds()),
                        Math.min(a.cpuSeconds(), b.cpuSeconds()), Math.min(a.allocatedBytes(), b.allocatedBytes()),
                        a.serverThreads(), a.serverChannel()));
            }
        }
        Best nio = best.get(Transport.NIO);
        String jvm = "JVM " + Runtime.version().feature() + ", Netty";
        for (Transport t : transports) {
            Best b = best.get(t);
            table.row(jvm, b.serverChannel(), "ChannelHandler", t == Transport.NIO
                            ? "NioIoHandler → " + selectorClass.substring(selectorClass.lastIndexOf('.') + 1)
                            : "EpollIoHandler → epoll via JNI", b.serverThreads() + " + 1 client loop",
                    b.perSecond(roundTrips), b.cpuMicrosPer(roundTrips), b.cpuSeconds() / nio.cpuSeconds(),
                    b.bytesPer(roundTrips));
        }
        Best epoll = best.get(Transport.EPOLL);
        if (epoll != null) {
            double garbage = (double) epoll.allocatedBytes() / nio.allocatedBytes();
            ctx.claim(EPOLL_LESS_GARBAGE, Verdict.check(garbage <= EPOLL_MAX_GARBAGE, String.format("heap allocated by"
                            + " the event-loop threads per round trip, epoll ÷ NIO: %.2f× (needs ≤ %.1f×; %.0f vs %.0f B)",
                    garbage, EPOLL_MAX_GARBAGE, epoll.bytesPer(roundTrips), nio.bytesPer(roundTrips))));
            double cpuRatio = epoll.cpuSeconds() / nio.cpuSeconds();
            ctx.claim(EPOLL_CPU, Verdict.check(cpuRatio <= EPOLL_CPU_HIGH
                            && epoll.serverThreads() == 1 && nio.serverThreads() == 1, String.format("CPU per round trip,"
                            + " epoll ÷ NIO: %.2f× (needs ≤ %.1f×; %.1f vs %.1f µs); wall-clock round trips/s, epoll"
                            + " ÷ NIO: %.2f×; server loop threads: %d and %d", cpuRatio, EPOLL_CPU_HIGH,
                    epoll.cpuMicrosPer(roundTrips), nio.cpuMicrosPer(roundTrips),
                    epoll.perSecond(roundTrips) / nio.perSecond(roundTrips), epoll.serverThreads(),
                    nio.serverThreads())));
        }
    }

    private static Best once(Transport t, int c, int m) throws Exception {
        try (EventLoopTransportEcho echo = new EventLoopTransportEcho(t, 1, 1, c)) {
            echo.connect(c);
            echo.pingPong(1); // every channel has carried a message: the timed part is steady state
            long cpu = echo.loopCpuNanos();
            long allocated = echo.loopAllocatedBytes();
            long start = System.nanoTime();
            echo.pingPong(m);
            double wall = (System.nanoTime() - start) / 1e9;
            return new Best(wall, (echo.loopCpuNanos() - cpu) / 1e9, echo.loopAllocatedBytes() - allocated,
                    echo.serverThreads(), echo.serverChannelClass());
        }
    }
}
