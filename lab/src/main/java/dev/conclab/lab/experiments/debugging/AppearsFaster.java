package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time is not the whole cost: threads that finish in good wall time may burn more CPU than one thread doing the
 * same work, or, in CPython, take turns on one core; in Java and in CPython.
 *
 * <p><b>BASELINE:</b> one thread does every increment of a shared {@code AtomicLong}. <b>Broken measurement:</b> wall
 * time only, for two threads splitting the increments: the counter's cache line travels between the cores at every
 * update, so the CPU time spent (read per thread with {@link ThreadMXBean#getCurrentThreadCpuTime()}) grows
 * although the work is the same. <b>Correct:</b> report CPU time beside wall time.
 *
 * <p>The CPython probe {@code appears_faster.py} runs pure-Python work on 4 threads and on one, and reads
 * {@code time.perf_counter()} (wall), {@code time.process_time()} (CPU of every thread of the process) and each
 * thread's own {@code time.thread_time()}: under the GIL the threads take turns, so the process's CPU time is no
 * more than its wall time, and a thread that times only itself reports a fraction of the real cost.
 *
 * <p>The forced traps (timing only the submit, a warm cache) are in {@code timing-traps}.
 *
 * <p>Run: {@code ./conclab run appears-faster}. The Java claim needs two cores.
 */
public final class AppearsFaster implements Experiment {

    static final ClaimSpec CPU_NOT_WALL = new ClaimSpec("cpu-not-wall",
            "Two threads incrementing one shared AtomicLong spend at least 1.5× the CPU time of one thread doing"
                    + " every increment (needs 2 cores).");
    static final ClaimSpec PY_CPU_IS_WALL = new ClaimSpec("py-cpu-is-wall",
            "In CPython, 4 threads on pure-Python work use at most 1.3× as much process CPU time as wall time: they"
                    + " took turns on one core.");

    private static final int PY_THREADS = 4;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Override
    public String id() {
        return "appears-faster";
    }

    @Override
    public String title() {
        return "Threads that appear faster: wall time vs CPU time";
    }

    @Override
    public String description() {
        return "Measures wall and CPU time of threads on a shared counter (Java) and of threads on pure-Python work"
                + " (CPython), and shows what wall time alone, or a thread timing only itself, leaves out.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("increments", "increments of the shared counter", 100_000, 1_000_000_000,
                        20_000_000, 4_000_000),
                new Param.IntParam("py-work", "CPython burn iterations, in thousands", 50, 100_000, 3_000, 600));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(CPU_NOT_WALL, PY_CPU_IS_WALL);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.1, "wall vs CPU time on a shared counter");
        long increments = ctx.intParam("increments");
        WallAndCpu one = countOn(1, increments);
        WallAndCpu two = countOn(2, increments);
        for (int run = 1; run < ctx.repeats(); run++) { // in turns, keeping each variant's cheapest run
            one = WallAndCpu.better(one, countOn(1, increments));
            two = WallAndCpu.better(two, countOn(2, increments));
        }
        ctx.table(Table.builder(increments + " increments of one AtomicLong (best of " + ctx.repeats() + ")",
                        "threads", "wall ms", "CPU ms (all threads)")
                .row(1, one.wallSeconds() * 1e3, one.cpuSeconds() * 1e3)
                .row(2, two.wallSeconds() * 1e3, two.cpuSeconds() * 1e3)
                .build());
        if (ctx.requireCores(CPU_NOT_WALL, 2)) {
            ctx.claim(CPU_NOT_WALL, Verdict.atLeast("CPU time, 2 threads vs 1", two.cpuSeconds() / one.cpuSeconds(),
                    1.5));
        }
        ctx.progress(0.6, "CPython: perf_counter vs process_time vs thread_time");
        runProbe(ctx);
        ctx.progress(1, "done");
    }

    private static void runProbe(RunContext ctx) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("appears_faster.py", List.of(), Duration.ofSeconds(120),
                "--part", "cpu", "--threads", Integer.toString(PY_THREADS),
                "--work", Integer.toString(ctx.intParam("py-work") * 1000),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_CPU_IS_WALL);
            case ProbeOutcome.Ran ran -> {
                JsonNode sequential = ran.json().path("cpu").path("sequential");
                JsonNode threaded = ran.json().path("cpu").path("threaded");
                double wall = threaded.path("wall_s").asDouble();
                double cpu = threaded.path("cpu_s").asDouble();
                ctx.table(Table.builder(String.format("CPython %s: the same pure-Python work on 1 and on %d"
                                        + " threads (the run with the least wall time of %d)",
                                ran.interpreter().version(), PY_THREADS, ctx.repeats()),
                                "variant", "wall ms (perf_counter)", "process CPU ms (process_time)",
                                "one thread's own CPU ms (thread_time, mean)")
                        .row("1 thread", sequential.path("wall_s").asDouble() * 1e3,
                                sequential.path("cpu_s").asDouble() * 1e3, sequential.path("cpu_s").asDouble() * 1e3)
                        .row(PY_THREADS + " threads", wall * 1e3, cpu * 1e3,
                                threaded.path("thread_mean_s").asDouble() * 1e3)
                        .build());
                ctx.claim(PY_CPU_IS_WALL, Verdict.atMost(PY_THREADS + " threads, process CPU time vs wall time",
                        cpu / wall, 1.3));
            }
        }
    }

    private record WallAndCpu(double wallSeconds, double cpuSeconds) {
        static WallAndCpu better(WallAndCpu a, WallAndCpu b) {
            return a.cpuSeconds() <= b.cpuSeconds() ? a : b;
        }
    }

    /** {@code increments} increments of one shared counter split over {@code threads} platform threads. */
    private static WallAndCpu countOn(int threads, long increments) throws InterruptedException {
        AtomicLong counter = new AtomicLong();
        LongAdder cpuNanos = new LongAdder();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().name("counter-", t).start(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                for (long i = 0; i < increments / threads; i++) {
                    counter.incrementAndGet();
                }
                cpuNanos.add(THREADS.getCurrentThreadCpuTime() - cpuStart);
            }));
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        for (Thread thread : started) {
            thread.join();
        }
        return new WallAndCpu((System.nanoTime() - start) / 1e9, cpuNanos.sum() / 1e9);
    }
}
