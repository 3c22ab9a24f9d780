package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * The switch interval on real CPython: how often the GIL changes hands between CPU-bound threads, what changing
 * the interval does to them, and what it does to an I/O-bound thread beside one (the convoy effect).
 *
 * <p>Since Python 3.2 a thread that wants the GIL waits one switch interval ({@code sys.getswitchinterval()});
 * if the holder has not let go by then, the waiter sets a drop request, and the holder hands the GIL over at its
 * next check of the eval loop and waits until the waiter has it (so it cannot take it straight back). A thread that
 * blocks in I/O releases the GIL without being asked, and must win it back afterwards. {@code gil-handoff} measures
 * what that costs a thread waking from {@code time.sleep}; this experiment measures the interval's effect on
 * throughput and on an I/O loop.
 *
 * <ol>
 *   <li><b>BASELINE:</b> {@code sys.getswitchinterval()} on the installed interpreter — the documented default,
 *       0.005 s.</li>
 *   <li><b>Two CPU-bound threads under a sweep of intervals</b> (0.1, 1, 5 and 50 ms), against the same work on one
 *       thread. Each loop turn checks a shared "last owner" slot; a thread that finds the other one's name there
 *       knows the GIL changed hands since its last turn and notes the time. Throughput stays about that of one
 *       thread at every interval (no interval buys parallelism); each thread keeps the GIL for at least one
 *       interval (the waiter asks only after a whole interval), so hand-overs per second follow 1 / interval.</li>
 *   <li><b>The convoy effect</b> (David Beazley, "Understanding the Python GIL", 2010; bpo-7946): an I/O thread
 *       does one-byte round trips over a socket with an echo peer in a child process that answers after
 *       {@code peer-delay-us}. Alone, each round trip costs about the peer's delay. Beside a pure-Python CPU-bound
 *       thread, the CPU thread takes the GIL each time the I/O thread blocks in {@code recv}, and when the answer
 *       arrives the I/O thread waits a switch interval to get it back: every round trip costs about 5 ms more.
 *       With a shorter interval the penalty shrinks with it.</li>
 *   <li><b>JVM:</b> the same round trips, with an echo thread that answers after the same delay, alone and beside
 *       a CPU-bound platform thread. No global lock: on two cores the I/O loop runs as fast beside it as alone.</li>
 * </ol>
 *
 * <p>Each two-thread run follows a one-thread run of the same work, and the pairs take turns over the intervals
 * {@code ctx.repeats()} times: speeds are the best run of each, turn lengths the median over all two-thread runs
 * (runs at long intervals are longer, so that they hold a few complete turns). Round-trip times are the median of
 * {@code ctx.repeats()} batches, the variants taking turns: beside a CPU-bound thread some round trips win the race
 * for the GIL (when the CPU thread is slow to wake), so the best batch would be the luckiest, not the usual one. The CPython peer talks over a {@code socketpair()}, the
 * JVM one over loopback TCP with {@code TCP_NODELAY}; both answer after {@code peer-delay-us}. The claims about
 * speed need two idle cores: with one core, no runtime could run two threads at once, and on a busy machine a
 * thread woken to take the GIL waits for a core.
 *
 * <p>Run: {@code ./conclab run switch-interval}. Expect about the same loop speed on one thread and on two at every
 * interval, a median turn a little over each interval, round trips about 30× slower beside the CPU thread at 5 ms
 * and only about 2× slower at 0.1 ms, and no change on the JVM.
 */
public final class SwitchInterval implements Experiment {

    static final ClaimSpec DEFAULT_INTERVAL = new ClaimSpec("default-interval",
            "The installed CPython's switch interval is the documented default: sys.getswitchinterval() returns"
                    + " 0.005 (5 ms).");
    static final ClaimSpec NO_PARALLELISM = new ClaimSpec("no-parallelism",
            "At every switch interval from 0.1 ms to 50 ms, two pure-Python CPU-bound threads together run at most"
                    + " 1.2× as many loop turns per second as one thread (needs 2 cores).");
    static final ClaimSpec THROUGHPUT_FLAT = new ClaimSpec("throughput-flat",
            "From 1 ms to 50 ms the interval barely changes throughput: two CPU-bound threads together run at least"
                    + " 0.6× as many loop turns per second as one thread at every such interval (needs 2 cores).");
    static final ClaimSpec TURN_AT_LEAST_INTERVAL = new ClaimSpec("turn-at-least-interval",
            "A CPU-bound thread keeps the GIL for at least about one switch interval: the median time between"
                    + " hand-overs is at least 0.8× the interval at every interval from 0.1 ms to 50 ms.");
    static final ClaimSpec HANDOVERS_SCALE = new ClaimSpec("handovers-scale",
            "Hand-overs follow the interval: two CPU-bound threads hand the GIL over at least 5× as often per second"
                    + " at a 1 ms interval as at 50 ms (needs 2 cores).");
    static final ClaimSpec PY_CONVOY = new ClaimSpec("py-convoy",
            "An I/O thread doing socket round trips with a peer that answers after a short delay completes them at"
                    + " least 5× slower beside a pure-Python CPU-bound thread than alone, at the default 5 ms"
                    + " interval.");
    static final ClaimSpec SHORTER_INTERVAL = new ClaimSpec("shorter-interval-less-convoy",
            "With a shorter switch interval (0.1 ms by default), the same round trips beside the CPU-bound thread are"
                    + " at least 2.5× faster than with the default interval.");
    static final ClaimSpec JVM_NO_CONVOY = new ClaimSpec("jvm-no-convoy",
            "On the JVM, the same round trips beside a CPU-bound thread are at most 2× slower than alone (needs 2"
                    + " cores).");

    /** The swept intervals, in µs; the claims name the first, second and last. */
    static final List<Integer> SWEEP_MICROS = List.of(100, 1_000, 5_000, 50_000);

    /** The CPU-bound JVM thread checks its stop flag after each slice of this many rounds (about 10 µs). */
    private static final long SPIN_SLICE = 20_000;

    @Override
    public String id() {
        return "switch-interval";
    }

    @Override
    public String title() {
        return "The switch interval: GIL hand-overs between CPU-bound threads, and the convoy effect on I/O";
    }

    @Override
    public String description() {
        return "Two pure-Python CPU-bound threads under switch intervals from 0.1 to 50 ms (throughput and GIL"
                + " hand-overs), and an I/O thread's socket round trips alone vs beside a CPU-bound thread at the"
                + " default and a short interval (the convoy effect), with the same I/O loop on the JVM.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("iterations", "pure-Python loop turns per CPU run (longer at long intervals)",
                        50_000, 100_000_000, 1_000_000, 200_000),
                new Param.IntParam("round-trips", "socket round trips per batch", 10, 100_000, 100, 30),
                // Bounded well below the 5 ms interval: the convoy claim compares a wait of one interval with it.
                new Param.IntParam("peer-delay-us", "how long the echo peer waits before answering, in µs", 20,
                        500, 100, 100),
                new Param.IntParam("short-interval-us", "the short CPython switch interval for the I/O thread, in µs",
                        10, 500, 100, 100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(DEFAULT_INTERVAL, NO_PARALLELISM, THROUGHPUT_FLAT, TURN_AT_LEAST_INTERVAL, HANDOVERS_SCALE,
                PY_CONVOY, SHORTER_INTERVAL, JVM_NO_CONVOY);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int roundTrips = ctx.intParam("round-trips");
        int peerDelayMicros = ctx.intParam("peer-delay-us");
        Table.Builder io = Table.builder("One-byte socket round trips with an echo peer that answers after "
                        + peerDelayMicros + " µs (median of " + ctx.repeats() + " batches of " + roundTrips + ")",
                "runtime", "beside the I/O thread", "switch interval ms", "µs per round trip", "vs alone");

        ctx.progress(0.05, "CPython: two CPU-bound threads under each interval, then the convoy");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("switch_interval.py", List.of(), Duration.ofSeconds(180),
                "--iterations", Integer.toString(ctx.intParam("iterations")),
                "--intervals-us", SWEEP_MICROS.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--repeat", Integer.toString(ctx.repeats()),
                "--intervals-per-run", Integer.toString(ctx.quick() ? 5 : 8),
                "--round-trips", Integer.toString(roundTrips),
                "--peer-delay-us", Integer.toString(peerDelayMicros),
                "--short-interval-us", Integer.toString(ctx.intParam("short-interval-us")),
                "--convoy-repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, DEFAULT_INTERVAL, NO_PARALLELISM,
                    THROUGHPUT_FLAT, TURN_AT_LEAST_INTERVAL, HANDOVERS_SCALE, PY_CONVOY, SHORTER_INTERVAL);
            case ProbeOutcome.Ran ran -> {
                judgeDefault(ctx, ran);
                judgeSweep(ctx, ran.json());
                judgeConvoy(ctx, ran.json().path("default_interval").asDouble() * 1e3, ran.json().path("convoy"),
                        io);
            }
        }

        ctx.progress(0.75, "JVM: the same round trips, alone and beside a CPU-bound thread");
        judgeJvm(ctx, roundTrips, peerDelayMicros, io);
        ctx.table(io.build());
        ctx.progress(1, "done");
    }

    private static void judgeDefault(RunContext ctx, ProbeOutcome.Ran ran) {
        double interval = ran.json().path("default_interval").asDouble();
        ctx.claim(DEFAULT_INTERVAL, Verdict.check(interval == 0.005, String.format(
                "sys.getswitchinterval() = %s on CPython %s", interval, ran.interpreter().version())));
    }

    /** One interval of the sweep, as the probe measured it: best speeds of equally long runs, and the turns. */
    private record SweepRow(double interval, double oneIps, double twoIps, int handovers, int turns,
                            double medianTurn) {

        static SweepRow of(JsonNode row) {
            JsonNode median = row.path("median_turn_s");
            return new SweepRow(row.path("interval").asDouble(), row.path("one_ips").asDouble(),
                    row.path("two_ips").asDouble(), row.path("handovers").asInt(), row.path("turns").asInt(),
                    median.isNumber() ? median.asDouble() : Double.NaN);
        }

        double twoVsOne() {
            return twoIps / oneIps;
        }

        /** Hand-overs per second in steady state: one per median turn. */
        double handoversPerSecond() {
            return 1 / medianTurn;
        }

        String label() {
            return trim(interval * 1e3) + " ms";
        }
    }

    private static void judgeSweep(RunContext ctx, JsonNode json) {
        List<SweepRow> rows = new ArrayList<>();
        json.path("sweep").forEach(row -> rows.add(SweepRow.of(row)));
        if (rows.size() != SWEEP_MICROS.size()) {
            throw new IllegalStateException("switch_interval.py returned " + rows.size() + " sweep rows for "
                    + SWEEP_MICROS.size() + " intervals");
        }
        Table.Builder table = Table.builder("Pure-Python CPU-bound loop on 1 and 2 threads under each switch"
                        + " interval (best run of each; turns over all two-thread runs)", "switch interval ms",
                "1 thread M loops/s", "2 threads M loops/s", "2 vs 1", "hand-overs", "median turn ms",
                "hand-overs/s");
        List<Series.Point> turnPoints = new ArrayList<>();
        for (SweepRow row : rows) {
            boolean hasTurns = !Double.isNaN(row.medianTurn());
            table.row(row.interval() * 1e3, row.oneIps() / 1e6, row.twoIps() / 1e6, row.twoVsOne(),
                    row.handovers(), hasTurns ? row.medianTurn() * 1e3 : "—",
                    hasTurns ? row.handoversPerSecond() : "—");
            if (hasTurns) {
                turnPoints.add(new Series.Point(row.interval() * 1e3, row.medianTurn() * 1e3));
            }
        }
        ctx.table(table.build());
        ctx.series(new Series("How long a CPU-bound thread keeps the GIL", "CPython, 2 CPU-bound threads",
                "switch interval ms", "median turn ms", turnPoints));
        ctx.series(new Series("How long a CPU-bound thread keeps the GIL", "one interval",
                "switch interval ms", "median turn ms", rows.stream()
                .map(r -> new Series.Point(r.interval() * 1e3, r.interval() * 1e3)).toList()));

        if (ctx.requireCores(NO_PARALLELISM, 2)) {
            // One thread alone never switches, so its speed does not depend on the interval: the best one-thread
            // speed of the whole sweep is its baseline at every interval. (Judged per interval, one slow spell of
            // the machine during a single one-thread run once made two threads look 1.26× faster.)
            double oneBest = rows.stream().mapToDouble(SweepRow::oneIps).max().orElseThrow();
            SweepRow fastest = rows.stream().max(Comparator.comparingDouble(SweepRow::twoIps)).orElseThrow();
            ctx.claim(NO_PARALLELISM, Verdict.atMost(String.format(
                    "fastest two-thread speed (at %s) vs the best one-thread speed of the sweep: %.2f vs %.2f M"
                            + " loops/s", fastest.label(), fastest.twoIps() / 1e6, oneBest / 1e6),
                    fastest.twoIps() / oneBest, 1.2));
        }
        if (ctx.requireCores(THROUGHPUT_FLAT, 2)) {
            SweepRow slowest = rows.stream().filter(r -> r.interval() >= 0.001)
                    .min(Comparator.comparingDouble(SweepRow::twoVsOne)).orElseThrow();
            ctx.claim(THROUGHPUT_FLAT, Verdict.atLeast(String.format(
                    "best two-thread vs one-thread speed at %s (the lowest ratio from 1 ms up): %.2f vs %.2f M"
                            + " loops/s", slowest.label(), slowest.twoIps() / 1e6, slowest.oneIps() / 1e6),
                    slowest.twoVsOne(), 0.6));
        }

        List<String> noTurns = rows.stream().filter(r -> Double.isNaN(r.medianTurn())).map(SweepRow::label)
                .toList();
        if (!noTurns.isEmpty()) {
            ctx.claim(TURN_AT_LEAST_INTERVAL, Verdict.check(false, "no complete turn was measured at " + noTurns
                    + "; raise iterations"));
        } else {
            SweepRow shortest = rows.stream()
                    .min(Comparator.comparingDouble(r -> r.medianTurn() / r.interval())).orElseThrow();
            ctx.claim(TURN_AT_LEAST_INTERVAL, Verdict.atLeast(String.format(
                    "shortest median turn for its interval: %.3f ms at %s (%d turns)",
                    shortest.medianTurn() * 1e3, shortest.label(), shortest.turns()),
                    shortest.medianTurn() / shortest.interval(), 0.8));
        }

        SweepRow oneMilli = rows.get(SWEEP_MICROS.indexOf(1_000));
        SweepRow longest = rows.getLast();
        if (ctx.requireCores(HANDOVERS_SCALE, 2)) {
            // With no complete turn at an interval the ratio is NaN, and NaN fails the comparison.
            ctx.claim(HANDOVERS_SCALE, Verdict.atLeast(String.format(
                    "hand-overs per second (1 / median turn) at %s %.0f vs at %s %.1f", oneMilli.label(),
                    oneMilli.handoversPerSecond(), longest.label(), longest.handoversPerSecond()),
                    oneMilli.handoversPerSecond() / longest.handoversPerSecond(), 5));
        }
    }

    private static void judgeConvoy(RunContext ctx, double defaultMs, JsonNode convoy, Table.Builder io) {
        double shortMs = convoy.path("short_interval").asDouble() * 1e3;
        double alone = convoy.path("alone_us").asDouble();
        double beside = convoy.path("beside_default_us").asDouble();
        double besideShort = convoy.path("beside_short_us").asDouble();
        io.row("CPython", "nothing", defaultMs, alone, 1.0)
                .row("CPython", "a pure-Python CPU-bound thread", defaultMs, beside, beside / alone)
                .row("CPython", "a pure-Python CPU-bound thread", shortMs, besideShort, besideShort / alone);
        ctx.claim(PY_CONVOY, Verdict.atLeast(String.format(
                "µs per round trip beside the CPU thread %.0f vs alone %.0f", beside, alone), beside / alone, 5));
        ctx.claim(SHORTER_INTERVAL, Verdict.atLeast(String.format(
                "µs per round trip beside the CPU thread at %s ms %.0f vs at %s ms %.0f", trim(defaultMs), beside,
                trim(shortMs),
                besideShort), beside / besideShort, 2.5));
    }

    private static void judgeJvm(RunContext ctx, int roundTrips, int peerDelayMicros, Table.Builder io)
            throws Exception {
        Duration delay = Duration.ofNanos(peerDelayMicros * 1_000L);
        double[] aloneBatches = new double[ctx.repeats()];
        double[] besideBatches = new double[ctx.repeats()];
        try (EchoPeer peer = EchoPeer.start(delay); SocketChannel client = peer.connect()) {
            roundTrips(client, 10); // the peer is up and the code is warm
            // Interleaved, so that a slow spell of the shared machine lands on both variants.
            for (int i = 0; i < ctx.repeats(); i++) {
                ctx.checkCancelled();
                aloneBatches[i] = roundTrips(client, roundTrips);
                besideBatches[i] = besideSpinner(client, roundTrips);
            }
        }
        double alone = median(aloneBatches);
        double beside = median(besideBatches);
        io.row("JVM", "nothing", "—", alone, 1.0)
                .row("JVM", "a CPU-bound platform thread", "—", beside, beside / alone);
        if (ctx.requireCores(JVM_NO_CONVOY, 2)) {
            ctx.claim(JVM_NO_CONVOY, Verdict.atMost(String.format(
                    "JVM µs per round trip beside a CPU-bound thread %.0f vs alone %.0f", beside, alone),
                    beside / alone, 2));
        }
    }

    /** Mean µs per one-byte round trip over {@code count} round trips. */
    private static double roundTrips(SocketChannel channel, int count) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1);
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            buffer.clear().put((byte) 'x').flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
            if (channel.read(buffer) < 0) {
                throw new IOException("the echo peer closed the connection");
            }
        }
        return (System.nanoTime() - start) / 1e3 / count;
    }

    /** Round trips while a platform thread spins on CPU work; stops and joins the spinner. */
    private static double besideSpinner(SocketChannel channel, int count) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread spinner = Thread.ofPlatform().name("cpu-bound").start(() -> {
            while (!stop.get()) {
                CpuWork.consume(SPIN_SLICE);
            }
        });
        try {
            return roundTrips(channel, count);
        } finally {
            stop.set(true);
            spinner.join();
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String trim(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }

    /**
     * A loopback echo server for one connection: a platform thread answers each message after {@code delay}, as a
     * remote server would. {@link #close()} closes the listener and the connection and joins the thread. Not
     * thread-safe; one connection per instance.
     */
    static final class EchoPeer implements AutoCloseable {

        private final ServerSocketChannel listener;
        private final Thread thread;
        private volatile SocketChannel accepted;

        private EchoPeer(Duration delay) throws IOException {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            thread = Thread.ofPlatform().name("echo-peer").start(() -> serve(delay));
        }

        static EchoPeer start(Duration delay) throws IOException {
            return new EchoPeer(delay);
        }

        SocketChannel connect() throws IOException {
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            client.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            return client;
        }

        private void serve(Duration delay) {
            try (SocketChannel peer = listener.accept()) {
                accepted = peer;
                peer.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                ByteBuffer buffer = ByteBuffer.allocate(64);
                while (peer.read(buffer.clear()) > 0) {
                    Thread.sleep(delay);
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        peer.write(buffer);
                    }
                }
            } catch (IOException | InterruptedException e) {
                // The connection or the listener was closed: the run is over.
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            try {
                listener.close();
                SocketChannel peer = accepted;
                if (peer != null) {
                    peer.close();
                }
            } finally {
                thread.interrupt();
                thread.join(2_000);
            }
        }
    }
}
