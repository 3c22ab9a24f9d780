package dev.conclab.lab.experiments.debugging;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
                        1_000, 300));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(NO_THROUGHPUT_GAIN, MORE_SWITCHES, STACK_RESERVED);
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
        ctx.progress(1, "done");
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
