package dev.conclab.bench.pool;

import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

/**
 * The per-task cost of a process pool: {@value #TASKS} calls of {@link PoolTasks#increment}, a task that does
 * nothing, mapped over 2 workers. Everything measured is overhead: encoding, the pipe, the worker's dispatch,
 * decoding, and for the pool the hand-off between its threads.
 *
 * <p><b>BASELINE: {@code fork-join}</b>, a {@link ForkJoinPool} of 2 threads running
 * {@code items.parallelStream().map(increment)} in the same JVM: no copy, no process boundary. Variants:
 * <ul>
 *   <li>{@code process-pool/1000}: {@link ProcessPool#map(TaskRef, Iterable, int)} with 2 workers and chunks of
 *       1,000 calls, so 100 round trips;</li>
 *   <li>{@code process-pool/12500}: chunks of 12,500, the size Python's {@code Pool.map} would pick for 100,000
 *       items on 2 workers ({@code ceil(len / (4 × workers))}), so 8 round trips.</li>
 * </ul>
 * Without chunking (chunksize 1) a call is a round trip of about 250 µs, 100,000 of them about 25 s per
 * operation: too slow to be worth a benchmark; the {@code pool-map-vs-apply} experiment shows it on fewer tasks.
 *
 * <p>The score is the average time per task ({@link OperationsPerInvocation} is {@value #TASKS}). The pool is made
 * once per trial, so worker start-up is not in the score ({@link WorkerStartup} measures it) and workers are
 * JIT-warm after the warm-up iterations.
 *
 * <p><b>Measured</b> with these settings on 2 vCPUs (AMD EPYC, JDK 25.0.3), the machine otherwise idle: 4.5 ns per
 * task on the thread pool; 205 ns with chunks of 1,000 and 202 ns with chunks of 12,500 on the process pool (45×).
 * Once chunks are large, the cost is the wire format's encoding and decoding of each value, not the round trips.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TinyTasksBenchmark {

    /** The number of tasks per operation. */
    public static final int TASKS = 100_000;
    /** The runner the others are compared with. */
    public static final String BASELINE = "fork-join";
    static final int WORKERS = 2;
    static final TaskRef INCREMENT = TaskRef.of(PoolTasks.class, "increment");

    @Param({BASELINE, "process-pool/1000", "process-pool/12500"})
    public String runner;

    private List<Long> items;
    private ForkJoinPool forkJoin;
    private ProcessPool pool;
    private int chunksize;

    @Setup
    public void setUp() {
        items = LongStream.range(0, TASKS).boxed().toList();
        if (runner.equals(BASELINE)) {
            forkJoin = new ForkJoinPool(WORKERS);
        } else if (runner.startsWith("process-pool/")) {
            chunksize = Integer.parseInt(runner.substring("process-pool/".length()));
            pool = ProcessPool.of(WORKERS);
        } else {
            throw new IllegalArgumentException("unknown runner: " + runner + " (known: " + BASELINE
                    + ", process-pool/CHUNKSIZE)");
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
    @OperationsPerInvocation(TASKS)
    public List<?> map() throws InterruptedException, ExecutionException {
        if (pool != null) {
            return pool.map(INCREMENT, items, chunksize);
        }
        return forkJoin.submit(() -> items.parallelStream().map(PoolTasks::increment).toList()).get();
    }
}
