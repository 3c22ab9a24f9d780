package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.ChildLines;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why the JVM needs no GIL: the same CPU-bound loop scales on JVM threads, the only JVM-wide stops are brief
 * safepoints, and an uncontended lock costs nanoseconds.
 *
 * <p><b>BASELINE:</b> the loop CPython's {@code gil-cpu-threads} probe runs ({@code probelib.burn}:
 * {@code acc = (acc * 31 + i) % 1000003}), ported line for line, on one JVM platform thread. <b>Variants:</b> the
 * same total work split over 2 threads and over one thread per core; beside them, the CPython row measured by the
 * same probe {@code gil-cpu-threads} uses (its claim {@code pure-python-no-speedup} is the CPython verdict; this
 * experiment only shows the row next to the JVM's).
 *
 * <p>Why the JVM can do without a global lock:
 * <ul>
 *   <li>Memory is reclaimed by a tracing garbage collector, not by reference counts that every thread updates on
 *       every assignment; the collector stops the threads only at <em>safepoints</em>, a JVM-wide pause that is
 *       requested now and then, not a lock held while code runs. A child JVM logs its safepoints
 *       ({@code -Xlog:safepoint}) while two threads burn and its main thread forces a few GCs; the experiment
 *       reports how many there were, how long reaching them took, and what fraction of the run they stopped the
 *       threads.</li>
 *   <li>What threads may see of each other's writes is defined by the Java Memory Model (JLS chapter 17), so each
 *       program synchronizes only the data it shares, with locks that cost little when uncontended: HotSpot's
 *       lightweight locking (the default since JDK 23; biased locking was disabled in JDK 15 by JEP 374 and removed
 *       in JDK 18) takes a free monitor with one compare-and-swap. The lock table compares an uncontended
 *       {@code synchronized} increment, the same increment contended by two threads (the JVM lets a running
 *       holder take the lock again, so this stays cheap per increment), {@code AtomicLong}, and a fair
 *       {@code ReentrantLock} that hands the lock to the waiting thread on every release (the lock's cache line moves
 *       between the cores each time, and a waiter that has stopped spinning must be unparked).</li>
 * </ul>
 *
 * <p>Run: {@code ./conclab run jvm-no-gil}. Expect about 2× on two idle cores for the JVM and about 1× for CPython;
 * a few safepoints stopping the threads for a small part of the run; an uncontended {@code synchronized} in tens
 * of nanoseconds or less, a hand-off on every release several times that.
 */
public final class JvmNoGil implements Experiment {

    static final ClaimSpec JVM_SCALES = new ClaimSpec("jvm-scales",
            "The loop CPython's gil-cpu-threads probe runs, acc = (acc × 31 + i) mod 1000003, is at least 1.6×"
                    + " faster on 2 JVM platform threads than on 1 (needs 2 cores).");
    static final ClaimSpec SAFEPOINTS_BRIEF = new ClaimSpec("safepoints-brief",
            "While 2 JVM threads run CPU-bound code with GCs forced in between, safepoints stop them for less than"
                    + " half of the run, where a GIL lets only one of 2 CPU-bound threads run at any time (needs 2"
                    + " cores).");
    static final ClaimSpec UNCONTENDED_CHEAP = new ClaimSpec("uncontended-synchronized-cheap",
            "An uncontended synchronized increment costs less than 100 ns.");
    static final ClaimSpec HANDOFF_COSTLY = new ClaimSpec("handoff-costly",
            "Handing the lock to the waiting thread on every release (a fair ReentrantLock, 2 threads) costs at"
                    + " least twice as much per increment as an uncontended synchronized increment (needs 2 cores).");

    /** A safepoint line of {@code -Xlog:safepoint} (JDK 17+ format). */
    private static final Pattern SAFEPOINT = Pattern.compile(
            "Safepoint \"(\\w+)\".*Reaching safepoint: (\\d+) ns.*Total: (\\d+) ns");

    @Override
    public String id() {
        return "jvm-no-gil";
    }

    @Override
    public String title() {
        return "Why the JVM needs no GIL: the same CPU loop on 1, 2 and N threads, safepoints, lock costs";
    }

    @Override
    public String description() {
        return "Runs CPython's gil-cpu-threads loop, ported to Java, on 1, 2 and one-per-core JVM threads beside"
                + " the CPython row; logs the safepoints of a child JVM whose threads burn while GCs are forced;"
                + " and times uncontended and contended synchronized, AtomicLong, and a fair lock handed over on"
                + " every release.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("iterations", "loop iterations of one JVM run (split over the threads)",
                        1_000_000, 2_000_000_000, 200_000_000, 40_000_000),
                new Param.IntParam("py-iterations", "loop iterations of one CPython run", 100_000, 1_000_000_000,
                        4_000_000, 1_000_000),
                new Param.IntParam("safepoint-ms", "how long the child JVM's 2 threads burn", 100, 60_000, 1_000,
                        400),
                new Param.IntParam("gcs", "GCs the child JVM forces while its threads burn", 1, 50, 3, 3),
                new Param.IntParam("lock-ops", "increments per lock measurement", 10_000, 500_000_000, 20_000_000,
                        4_000_000),
                new Param.IntParam("handoff-ops", "increments per thread through the fair lock", 100, 10_000_000,
                        50_000, 5_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_SCALES, SAFEPOINTS_BRIEF, UNCONTENDED_CHEAP, HANDOFF_COSTLY);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.0, "JVM: 1, 2 and N threads");
        scaling(ctx);
        ctx.progress(0.55, "safepoints of a child JVM");
        safepoints(ctx);
        ctx.progress(0.75, "lock costs");
        lockCosts(ctx);
        ctx.progress(1, "done");
    }

    // ---- scaling ----------------------------------------------------------------------------------------------

    private static volatile long sink;

    /** probelib.burn, line for line: {@code n} iterations of a small modular recurrence. */
    static long burn(long n) {
        long acc = 0;
        for (long i = 0; i < n; i++) {
            acc = (acc * 31 + i) % 1000003;
        }
        return acc;
    }

    private void scaling(RunContext ctx) throws Exception {
        long iterations = ctx.intParam("iterations");
        int cores = ctx.cores();
        List<Integer> counts = cores > 2 ? List.of(1, 2, cores) : List.of(1, 2);
        Table.Builder table = Table.builder("The same loop on 1, 2 and N threads (best of " + ctx.repeats() + ")",
                "runtime", "threads", "iterations", "ms", "ns per iteration (all threads)", "speed-up vs 1");
        Timing one = null;
        try (ExecutorService pool = Executors.newFixedThreadPool(counts.getLast(),
                Thread.ofPlatform().name("no-gil-burn-", 0).factory())) {
            sink = burn(Math.min(iterations, 20_000_000)); // let the JIT compile burn before timing it
            for (int threads : counts) {
                long each = iterations / threads;
                Timing timing = Measure.bestOf(ctx.repeats(), ctx, () -> {
                    List<Future<Long>> parts = new ArrayList<>(threads);
                    for (int t = 0; t < threads; t++) {
                        parts.add(pool.submit(() -> burn(each)));
                    }
                    long all = 0;
                    for (Future<Long> part : parts) {
                        all += part.get();
                    }
                    sink = all;
                });
                if (threads == 1) {
                    one = timing;
                }
                double speedup = Measure.speedup(one, timing);
                table.row("JVM " + Runtime.version().feature(), threads, each * threads, timing.bestMillis(),
                        timing.best() * 1e9 / (each * threads), speedup);
                if (threads == 2 && ctx.requireCores(JVM_SCALES, 2)) {
                    ctx.claim(JVM_SCALES, Verdict.atLeast("2 JVM threads vs 1", speedup, 1.6));
                }
            }
        }

        // The CPython row, from the probe gil-cpu-threads runs (its hashlib half is kept to the minimum here).
        int pyIterations = ctx.intParam("py-iterations");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gil_cpu.py", List.of(), Duration.ofMinutes(2),
                "--iterations", Integer.toString(pyIterations), "--threads", "2", "--hash-mb", "1",
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> ctx.note("CPython row not measured: " + missing.reason());
            case ProbeOutcome.Ran ran -> {
                JsonNode pure = ran.json().path("pure_python");
                double oneS = pure.path("one_thread_s").asDouble();
                double twoS = pure.path("threads_s").asDouble();
                String runtime = "CPython " + ran.interpreter().version();
                table.row(runtime, 1, pyIterations, oneS * 1e3, oneS * 1e9 / pyIterations, 1.0)
                        .row(runtime, 2, pyIterations, twoS * 1e3, twoS * 1e9 / pyIterations, oneS / twoS);
            }
        }
        ctx.table(table.build());
    }

    // ---- safepoints -------------------------------------------------------------------------------------------

    /** What the child JVM's safepoint log showed inside its measured window. */
    record SafepointLog(int count, long stoppedNanos, long longestReachNanos, long wallNanos, List<String> kinds) {
        double stoppedFraction() {
            return wallNanos == 0 ? 1 : (double) stoppedNanos / wallNanos;
        }
    }

    private static void safepoints(RunContext ctx) throws Exception {
        int burnMs = ctx.intParam("safepoint-ms");
        int gcs = ctx.intParam("gcs");
        SafepointLog log = runChild(ctx, burnMs, gcs);
        ctx.table(Table.builder("Safepoints of a child JVM while 2 threads burn " + burnMs + " ms and " + gcs
                                + " GCs are forced (-Xlog:safepoint)", "safepoints", "kinds", "stopped ms",
                        "longest time to safepoint ms", "run ms", "stopped share of the run")
                .row(log.count(), String.join(", ", log.kinds()), log.stoppedNanos() / 1e6,
                        log.longestReachNanos() / 1e6, log.wallNanos() / 1e6,
                        String.format("%.1f %%", 100 * log.stoppedFraction()))
                .build());
        if (ctx.requireCores(SAFEPOINTS_BRIEF, 2)) {
            ctx.claim(SAFEPOINTS_BRIEF, Verdict.check(log.count() >= gcs && log.stoppedFraction() < 0.5,
                    String.format("%d safepoints (needs ≥ %d, one per forced GC) stopped the threads %.1f ms of %.1f"
                                    + " ms: %.1f %% (needs < 50 %%)", log.count(), gcs, log.stoppedNanos() / 1e6,
                            log.wallNanos() / 1e6, 100 * log.stoppedFraction())));
        }
    }

    private static SafepointLog runChild(RunContext ctx, int burnMs, int gcs) throws Exception {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx64m",
                "-Xlog:disable", "-Xlog:safepoint=info:stdout");
        Process child = ctx.children().track(launcher.start(SafepointChild.class, Integer.toString(burnMs),
                Integer.toString(gcs)));
        return parse(ChildLines.of(child, "the safepoint child JVM", 30_000L + 10L * burnMs));
    }

    /** Reads the safepoints logged between the child's {@code begin} and {@code end} lines. */
    static SafepointLog parse(List<String> lines) {
        boolean inside = false;
        int count = 0;
        long stopped = 0;
        long longestReach = 0;
        long wall = 0;
        List<String> kinds = new ArrayList<>();
        for (String line : lines) {
            if (line.equals("begin")) {
                inside = true;
            } else if (line.equals("end")) {
                inside = false;
            } else if (line.startsWith("wall-ns ")) {
                wall = Long.parseLong(line.substring("wall-ns ".length()));
            } else if (inside) {
                Matcher m = SAFEPOINT.matcher(line);
                if (m.find()) {
                    count++;
                    if (!kinds.contains(m.group(1))) {
                        kinds.add(m.group(1));
                    }
                    longestReach = Math.max(longestReach, Long.parseLong(m.group(2)));
                    stopped += Long.parseLong(m.group(3));
                }
            }
        }
        return new SafepointLog(count, stopped, longestReach, wall, kinds);
    }

    /**
     * The child JVM: two platform threads burn for {@code args[0]} ms by the clock while the main thread forces
     * {@code args[1]} GCs, evenly spaced. Prints {@code begin} and {@code end} around the measured window (the
     * safepoint log lines between them are the ones that count), then {@code wall-ns N}.
     */
    public static final class SafepointChild {

        private SafepointChild() {
        }

        public static void main(String[] args) throws Exception {
            ParentWatch.exitWithParent();
            long burnNanos = TimeUnit.MILLISECONDS.toNanos(Integer.parseInt(args[0]));
            int gcs = Integer.parseInt(args[1]);
            sink = burn(20_000_000); // compiled before the window, so no compilation event lands in it
            System.out.println("begin");
            System.out.flush();
            long start = System.nanoTime();
            long end = start + burnNanos;
            List<Thread> burners = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                burners.add(Thread.ofPlatform().name("burner-" + t).start(() -> {
                    long acc = 0;
                    while (System.nanoTime() < end) {
                        acc += burn(100_000);
                    }
                    sink = acc;
                }));
            }
            for (int g = 1; g <= gcs; g++) {
                long at = start + burnNanos * g / (gcs + 1);
                long wait = at - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                System.gc(); // a stop-the-world collection: every burner must reach a safepoint
            }
            for (Thread burner : burners) {
                burner.join();
            }
            long wall = System.nanoTime() - start;
            System.out.flush();
            System.out.println("end");
            System.out.println("wall-ns " + wall);
            System.out.flush();
        }
    }

    // ---- lock costs -------------------------------------------------------------------------------------------

    /**
     * A counter under its own monitor. Thread-safe. The volatile write between increments keeps the JIT from
     * merging consecutive lock regions of a loop into one (lock coarsening), so each increment takes the lock.
     */
    static final class SyncCounter {
        private long count;
        volatile long gap;

        synchronized void increment() {
            count++;
        }
    }

    /** A counter under a fair lock: a releasing thread that another thread waits for hands the lock over. */
    static final class FairCounter {
        private final ReentrantLock lock = new ReentrantLock(true);
        private long count;

        void increment() {
            lock.lock();
            try {
                count++;
            } finally {
                lock.unlock();
            }
        }
    }

    private interface PerThread {
        void run(long ops);
    }

    /**
     * Best ns per operation of {@code threads} threads each doing {@code ops} operations at once. The threads
     * start together (a barrier), or the first could finish a short run before the second has started.
     */
    private static double nanosPerOp(RunContext ctx, ExecutorService pool, int threads, long ops, PerThread body)
            throws Exception {
        Timing timing = Measure.bestOf(ctx.repeats(), ctx, () -> {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<?>> parts = new ArrayList<>(threads);
            for (int t = 0; t < threads; t++) {
                parts.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    body.run(ops);
                    return null;
                }));
            }
            for (Future<?> part : parts) {
                part.get();
            }
        });
        return timing.best() * 1e9 / (threads * ops);
    }

    private static void lockCosts(RunContext ctx) throws Exception {
        long ops = ctx.intParam("lock-ops");
        long handoffOps = ctx.intParam("handoff-ops");
        double syncOne;
        double syncTwo;
        double atomicOne;
        double atomicTwo;
        double fairTwo;
        try (ExecutorService pool = Executors.newFixedThreadPool(2,
                Thread.ofPlatform().name("no-gil-lock-", 0).factory())) {
            SyncCounter sync = new SyncCounter();
            PerThread syncBody = n -> {
                for (long i = 0; i < n; i++) {
                    sync.increment();
                    sync.gap = i;
                }
            };
            syncBody.run(Math.min(ops, 2_000_000)); // JIT warm-up
            syncOne = nanosPerOp(ctx, pool, 1, ops, syncBody);
            syncTwo = nanosPerOp(ctx, pool, 2, ops / 2, syncBody);
            AtomicLong atomic = new AtomicLong();
            PerThread atomicBody = n -> {
                for (long i = 0; i < n; i++) {
                    atomic.incrementAndGet();
                    sync.gap = i;
                }
            };
            atomicBody.run(Math.min(ops, 2_000_000));
            atomicOne = nanosPerOp(ctx, pool, 1, ops, atomicBody);
            atomicTwo = nanosPerOp(ctx, pool, 2, ops / 2, atomicBody);
            FairCounter fair = new FairCounter();
            fairTwo = nanosPerOp(ctx, pool, 2, handoffOps, n -> {
                for (long i = 0; i < n; i++) {
                    fair.increment();
                }
            });
        }
        Table.Builder table = Table.builder("What an increment costs (best of " + ctx.repeats() + "; " + hotspotFlags()
                + ")", "increment", "threads", "ns per increment", "vs uncontended synchronized");
        table.row("synchronized, uncontended", 1, syncOne, 1.0)
                .row("synchronized, contended (holder may take it again)", 2, syncTwo, syncTwo / syncOne)
                .row("AtomicLong.incrementAndGet", 1, atomicOne, atomicOne / syncOne)
                .row("AtomicLong.incrementAndGet, contended", 2, atomicTwo, atomicTwo / syncOne)
                .row("fair ReentrantLock, handed to the waiter on every release", 2, fairTwo, fairTwo / syncOne);
        ctx.table(table.build());
        ctx.claim(UNCONTENDED_CHEAP, Verdict.check(syncOne < 100, String.format(
                "uncontended synchronized increment: %.1f ns (needs < 100 ns)", syncOne)));
        if (ctx.requireCores(HANDOFF_COSTLY, 2)) { // a hand-off between two running threads needs two cores
            ctx.claim(HANDOFF_COSTLY, Verdict.atLeast("fair hand-off vs uncontended synchronized, per increment",
                    fairTwo / syncOne, 2));
        }
    }

    /** The locking-related HotSpot flags of this JVM, as the diagnostic MXBean reports them. */
    private static String hotspotFlags() {
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        List<String> flags = new ArrayList<>();
        for (String name : List.of("LockingMode", "UseCompactObjectHeaders")) {
            try {
                flags.add(name + "=" + hotspot.getVMOption(name).getValue());
            } catch (IllegalArgumentException e) {
                flags.add(name + " absent");
            }
        }
        return String.join(", ", flags);
    }
}
