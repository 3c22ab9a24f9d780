package dev.conclab.bench.pool;

import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * CPU-bound scaling: {@value #TASKS} tasks of {@link PoolTasks#burn} ({@value #ROUNDS} xorshift rounds each,
 * about 30 ms on one core here) on 1 and on 2 workers. The speed-up from 1 to 2 worker processes is the pool's
 * answer to "does it use both cores?"; the same speed-up of a {@link ForkJoinPool} of 1 and 2 threads, in the same run, is what this
 * machine's cores allow at best (on a shared machine, less than 2×).
 *
 * <p><b>BASELINE: {@code fork-join} with 1 thread</b>. Variants: {@code fork-join} with 2 threads,
 * {@code process-pool} with 1 and 2 workers ({@code map} with chunks of one task, so the two workers take tasks
 * as they free up). The tasks are big enough that a round trip (about 250 µs) is ~2% of a task.
 *
 * <p>The score is the time for all {@value #TASKS} tasks; the report divides the 1-worker time by the 2-worker
 * time of each runner.
 *
 * <p><b>Measured</b> with these settings on 2 vCPUs (AMD EPYC, JDK 25.0.3), the machine otherwise idle: fork-join
 * 268 → 135 ms (1.99×), process pool 273 → 139 ms (1.96×).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CpuScalingBenchmark {

    static final int TASKS = 8;
    static final long ROUNDS = 20_000_000;
    static final TaskRef BURN = TaskRef.of(PoolTasks.class, "burn");

    @Param({"fork-join", "process-pool"})
    public String runner;

    @Param({"1", "2"})
    public int workers;

    private final List<Long> rounds = Collections.nCopies(TASKS, ROUNDS);
    private ForkJoinPool forkJoin;
    private ProcessPool pool;

    @Setup
    public void setUp() {
        switch (runner) {
            case "fork-join" -> forkJoin = new ForkJoinPool(workers);
            case "process-pool" -> pool = ProcessPool.of(workers);
            default -> throw new IllegalArgumentException("unknown runner: " + runner
                    + " (known: fork-join, process-pool)");
        }
    }

    @TearDown
    public void tearDown() throws InterruptedException {
        if (forkJoin != null) {
            forkJoin.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    @Benchmark
    public List<?> burnAll() throws InterruptedException, ExecutionException {
        if (pool != null) {
            return pool.map(BURN, rounds, 1);
        }
        List<Callable<Long>> calls = new ArrayList<>();
        for (long r : rounds) {
            calls.add(() -> PoolTasks.burn(r));
        }
        List<Long> results = new ArrayList<>();
        for (Future<Long> f : forkJoin.invokeAll(calls)) {
            results.add(f.get());
        }
        return results;
    }
}
