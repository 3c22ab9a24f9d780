package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Thread overuse, measured: 1,000 platform threads on CPU work against a pool sized to the cores.
 *
 * <p><b>BASELINE:</b> {@code cores} platform threads take the work, split into as many chunks as there are threads
 * in the other variant, from a shared counter (what a fixed pool of {@code cores} threads does).
 * <b>Overused:</b> one platform thread per chunk, 1,000 of them, all started at once.
 * <ul>
 *   <li>Throughput: the cores are the limit either way, so the extra threads buy nothing; they cost thread
 *       start-up and scheduling.</li>
 *   <li>Context switches: each thread reads its own counters from {@code /proc/thread-self/status}
 *       ({@code voluntary_ctxt_switches} + {@code nonvoluntary_ctxt_switches}) as its last act, in a separate,
 *       untimed run, so the reading does not slow the timed runs.</li>
 *   <li>Memory: the growth of the process's {@code VmSize} and {@code VmRSS} while the 1,000 threads are parked on
 *       a latch, per thread: each reserves its stack ({@code -Xss}, 1 MiB by default on Linux x64) but touches
 *       only a little of it.</li>
 * </ul>
 *
 * The CPython probe {@code thread_overuse.py} does the same with {@code threading.Thread} against a
 * {@code ThreadPoolExecutor} sized to the cores on pure-Python work, counting the process's context switches with
 * {@code resource.getrusage} and reading {@code sys.getswitchinterval()}, {@code threading.stack_size()} and the
 * growth of {@code VmSize}/{@code VmRSS} while the threads are parked. Under the GIL the extra threads cannot even
 * run at once; every waiting thread wakes at each switch interval to ask for the GIL.
 *
 * <p>Run: {@code ./conclab run thread-overuse}. Linux only for the switch and memory counters (skipped elsewhere).
 */
public final class ThreadOveruse implements Experiment {

    static final ClaimSpec NO_THROUGHPUT_GAIN = new ClaimSpec("no-throughput-gain",
            "1,000 platform threads finish the same CPU work at most 1.1× faster than a pool of one thread per core.");
    static final ClaimSpec MORE_SWITCHES = new ClaimSpec("more-switches",
            "1,000 platform threads on CPU work make at least 5× the context switches of a pool of one thread per"
                    + " core.");
    static final ClaimSpec STACK_RESERVED = new ClaimSpec("stack-reserved",
            "Each parked platform thread reserves at least 512 KiB of virtual memory for its stack.");
    static final ClaimSpec PY_NO_THROUGHPUT_GAIN = new ClaimSpec("py-no-throughput-gain",
            "In CPython, one thread per chunk finishes the same pure-Python work at most 1.25× faster than a"
                    + " ThreadPoolExecutor with one worker per core.");
    static final ClaimSpec PY_MORE_SWITCHES = new ClaimSpec("py-more-switches",
            "In CPython, one thread per chunk makes at least 3× the context switches of a ThreadPoolExecutor with"
                    + " one worker per core on the same work.");
    static final ClaimSpec PY_STACK_RESERVED = new ClaimSpec("py-stack-reserved",
            "Each parked CPython thread reserves at least 512 KiB of virtual memory.");

    private static final Path THREAD_STATUS = Path.of("/proc/thread-self/status");
    private static final Path PROCESS_STATUS = Path.of("/proc/self/status");

    @Override
    public String id() {
        return "thread-overuse";
    }

    @Override
    public String title() {
        return "Thread overuse: 1,000 platform threads vs a pool sized to the cores";
    }

    @Override
    public String description() {
        return "Runs the same CPU work on 1,000 platform threads and on one thread per core, and compares"
                + " throughput, context switches and the memory each thread reserves.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "platform threads in the overused variant", 100, 5_000, 1_000, 1_000),
                new Param.IntParam("cpu-ms", "total CPU work, in ms of one thread on this machine", 50, 60_000,
                        1_000, 300),
                new Param.IntParam("py-threads", "CPython threads (and chunks) in the overused variant", 10, 5_000,
                        1_000, 200),
                new Param.IntParam("py-work", "CPython burn iterations in all, in thousands", 50, 100_000, 6_000,
                        1_500));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(NO_THROUGHPUT_GAIN, MORE_SWITCHES, STACK_RESERVED, PY_NO_THROUGHPUT_GAIN, PY_MORE_SWITCHES,
                PY_STACK_RESERVED);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int many = ctx.intParam("threads");
        int cores = ctx.cores();
        long chunk = Math.max(1, CpuWork.roundsFor(ctx.intParam("cpu-ms")) / many);

        ctx.progress(0.1, "timing " + many + " threads and " + cores + " threads in turns");
        List<Timing> timings = Measure.bestOfEach(ctx.repeats(), ctx, List.of(
                () -> runOnThreads(many, many, chunk, null),
                () -> runOnThreads(cores, many, chunk, null)));
        Timing overused = timings.get(0);
        Timing sized = timings.get(1);

        boolean linux = Files.isReadable(THREAD_STATUS);
        Table.Builder table = Table.builder("Same CPU work (" + many + " chunks) on " + many + " and on " + cores
                        + " platform threads", "variant", "best ms", "context switches", "chunks per second");
        ctx.progress(0.6, "counting context switches");
        long overusedSwitches = linux ? switchesOf(many, many, chunk) : -1;
        long sizedSwitches = linux ? switchesOf(cores, many, chunk) : -1;
        table.row(many + " platform threads (overused)", overused.bestMillis(), overusedSwitches,
                        many / overused.best())
                .row(cores + " threads, one per core (baseline)", sized.bestMillis(), sizedSwitches,
                        many / sized.best());
        ctx.table(table.build());
        ctx.claim(NO_THROUGHPUT_GAIN, Verdict.atMost(many + " threads vs " + cores + ", throughput",
                Measure.speedup(sized, overused), 1.1));
        if (linux) {
            ctx.claim(MORE_SWITCHES, Verdict.atLeast(String.format("%d vs %d context switches", overusedSwitches,
                    sizedSwitches), overusedSwitches / (double) Math.max(1, sizedSwitches), 5));
        } else {
            ctx.claim(MORE_SWITCHES, Verdict.skipped("no /proc/thread-self/status (not Linux)"));
        }

        ctx.progress(0.8, "memory of " + many + " parked threads");
        if (Files.isReadable(PROCESS_STATUS)) {
            MemoryGrowth growth = parkedGrowth(many);
            ctx.table(Table.builder("Memory of " + many + " parked platform threads", "measure", "growth KiB",
                            "KiB per thread")
                    .row("VmSize (reserved)", growth.virtualKib(), growth.virtualKib() / (double) many)
                    .row("VmRSS (resident)", growth.residentKib(), growth.residentKib() / (double) many)
                    .build());
            double perThread = growth.virtualKib() / (double) many;
            ctx.claim(STACK_RESERVED, Verdict.check(perThread >= 512, String.format(
                    "VmSize grew %.0f KiB per parked thread (needs ≥ 512 KiB)", perThread)));
        } else {
            ctx.claim(STACK_RESERVED, Verdict.skipped("no /proc/self/status (not Linux)"));
        }
        ctx.progress(0.85, "CPython: threads vs a sized ThreadPoolExecutor");
        runProbe(ctx, cores);
        ctx.progress(1, "done");
    }

    private static void runProbe(RunContext ctx, int cores) throws Exception {
        int threads = ctx.intParam("py-threads");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("thread_overuse.py", List.of(), Duration.ofSeconds(120),
                "--chunks", Integer.toString(threads), "--workers", Integer.toString(cores),
                "--work", Integer.toString(ctx.intParam("py-work") * 1000),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_NO_THROUGHPUT_GAIN, PY_MORE_SWITCHES, PY_STACK_RESERVED);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode many = json.path("many");
                JsonNode pool = json.path("pool");
                ctx.table(Table.builder(String.format("CPython %s: the same pure-Python work (%d chunks) on %d"
                                        + " threads and on a pool of %d (best of %d, in turns)",
                                ran.interpreter().version(), threads, threads, cores, ctx.repeats()),
                                "variant", "best ms", "voluntary switches", "involuntary switches",
                                "chunks per second")
                        .row(threads + " threading.Thread (overused)", many.path("best_s").asDouble() * 1e3,
                                many.path("voluntary").asLong(), many.path("involuntary").asLong(),
                                threads / many.path("best_s").asDouble())
                        .row("ThreadPoolExecutor(max_workers=" + cores + ") (baseline)",
                                pool.path("best_s").asDouble() * 1e3, pool.path("voluntary").asLong(),
                                pool.path("involuntary").asLong(), threads / pool.path("best_s").asDouble())
                        .build());
                JsonNode parked = json.path("parked");
                Table.Builder facts = Table.builder("CPython " + ran.interpreter().version() + ": thread facts",
                                "fact", "value")
                        .row("sys.getswitchinterval() s", json.path("switch_interval").asDouble())
                        .row("threading.stack_size() (0 = platform default)", json.path("stack_size").asLong())
                        .row("ThreadPoolExecutor() default max_workers", json.path("default_pool_workers").asInt());
                if (!parked.isNull()) {
                    facts.row("VmSize growth per parked thread KiB", parked.path("vmsize_kib").asDouble() / threads)
                            .row("VmRSS growth per parked thread KiB", parked.path("vmrss_kib").asDouble() / threads);
                }
                ctx.table(facts.build());
                ctx.claim(PY_NO_THROUGHPUT_GAIN, Verdict.atMost(threads + " threads vs a pool of " + cores
                                + ", throughput", pool.path("best_s").asDouble() / many.path("best_s").asDouble(),
                        1.25));
                ctx.claim(PY_MORE_SWITCHES, Verdict.atLeast(String.format("%d vs %d context switches",
                                many.path("switches").asLong(), pool.path("switches").asLong()),
                        many.path("switches").asDouble() / Math.max(1, pool.path("switches").asLong()), 3));
                if (parked.isNull()) {
                    ctx.claim(PY_STACK_RESERVED, Verdict.skipped("no /proc/self/status (not Linux)"));
                } else {
                    double perThread = parked.path("vmsize_kib").asDouble() / threads;
                    ctx.claim(PY_STACK_RESERVED, Verdict.check(perThread >= 512, String.format(
                            "VmSize grew %.0f KiB per parked CPython thread (needs ≥ 512 KiB)", perThread)));
                }
            }
        }
    }

    /**
     * Starts {@code threads} platform threads that take {@code chunks} chunks of CPU work from a shared counter, and
     * joins them. With {@code switches} non-null, each thread adds its own context switches to it as its last act.
     */
    private static void runOnThreads(int threads, int chunks, long rounds, LongAdder switches)
            throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().name("overuse-", t).start(() -> {
                while (next.getAndIncrement() < chunks) {
                    CpuWork.consume(rounds);
                }
                if (switches != null) {
                    switches.add(ownSwitches());
                }
            }));
        }
        for (Thread thread : started) {
            thread.join();
        }
    }

    private static long switchesOf(int threads, int chunks, long rounds) throws InterruptedException {
        LongAdder switches = new LongAdder();
        runOnThreads(threads, chunks, rounds, switches);
        return switches.sum();
    }

    /** This thread's voluntary plus involuntary context switches since it started. */
    private static long ownSwitches() {
        try {
            List<String> status = Files.readAllLines(THREAD_STATUS);
            return statusField(status, "voluntary_ctxt_switches") + statusField(status, "nonvoluntary_ctxt_switches");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + THREAD_STATUS, e);
        }
    }

    private static long statusField(List<String> lines, String name) {
        for (String line : lines) {
            if (line.startsWith(name + ":")) {
                return Long.parseLong(line.substring(name.length() + 1).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException(name + " missing from a /proc status file");
    }

    private record MemoryGrowth(long virtualKib, long residentKib) {
    }

    /** Starts {@code threads} threads that park on a latch, reads the process's memory, then releases and joins. */
    private static MemoryGrowth parkedGrowth(int threads) throws IOException, InterruptedException {
        List<String> before = Files.readAllLines(PROCESS_STATUS);
        CountDownLatch parked = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>(threads);
        try {
            for (int t = 0; t < threads; t++) {
                started.add(Thread.ofPlatform().name("parked-", t).start(() -> {
                    parked.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            parked.await();
            List<String> during = Files.readAllLines(PROCESS_STATUS);
            return new MemoryGrowth(statusField(during, "VmSize") - statusField(before, "VmSize"),
                    statusField(during, "VmRSS") - statusField(before, "VmRSS"));
        } finally {
            release.countDown();
            for (Thread thread : started) {
                thread.join();
            }
        }
    }
}
