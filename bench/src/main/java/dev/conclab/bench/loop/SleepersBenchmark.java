package dev.conclab.bench.loop;

import dev.conclab.toolkit.loop.Coroutine;
import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.Outcome;
import dev.conclab.toolkit.loop.SelectorEventLoop;
import dev.conclab.toolkit.loop.Step;
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

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Many concurrent sleepers: {@code tasks} (10,000) tasks each sleep once for {@code sleepMillis} (10 ms), all at the
 * same time; the score is the time from starting the first to the end of the last. The ideal is the sleep itself:
 * everything above it is the cost of creating, parking, waking and finishing 10,000 tasks.
 *
 * <p><b>BASELINE: the ideal, {@code sleepMillis}</b> (no runtime reaches it); the runner prints each runtime's time as
 * a ratio to it. Runtimes:
 * <ul>
 *   <li>{@code toolkit-loop}: 10,000 {@code Task}s on the toolkit's {@link SelectorEventLoop}, each awaiting
 *       {@code loop.sleep(10 ms)} (a {@code LoopFuture} completed by a {@code callLater} timer) — asyncio's
 *       {@code gather(*(asyncio.sleep(0.01) for _ in range(10_000)))}; the loop runs on the JMH thread
 *       ({@code runUntilComplete});</li>
 *   <li>{@code virtual-threads}: 10,000 virtual threads, each calling {@code Thread.sleep(10)}, then joined;</li>
 *   <li>{@code completable-future}: 10,000 {@code CompletableFuture}s, each completed by a task scheduled on a
 *       one-thread {@code ScheduledThreadPoolExecutor} 10 ms ahead, awaited with {@code allOf(...).join()} (the
 *       kind of scheduler {@code CompletableFuture.delayedExecutor} uses, but owned here, so it is shut down after
 *       the run).</li>
 * </ul>
 * Single-shot mode: each measured invocation is one complete round of 10,000 sleepers.
 *
 * <p><b>Memory per pending sleeper</b> is measured apart, by {@link SleeperFootprint}: heap in use (from
 * {@code MemoryMXBean}, after three {@code System.gc()} calls) with 10,000 sleepers parked (sleeping one hour)
 * minus heap in use before creating them, divided by 10,000; the median of five rounds after three discarded
 * warm-up rounds. It counts what stays reachable while the sleepers wait (a virtual thread's stack is a heap object
 * while it is unmounted, so it is included), not what was allocated and freed on the way: JMH's {@code -prof gc}
 * shows that ({@code gc.alloc.rate.norm}, bytes allocated per round; divide by 10,000).
 *
 * <p><b>What to expect.</b> A pending sleeper is cheap everywhere: a timer entry and a few small objects, hundreds
 * of bytes. A parked virtual thread also keeps its stack chunk, so it costs more heap, but its code stays a plain
 * blocking method. The toolkit loop and virtual threads both do several steps per sleeper (create, park, wake,
 * finish, count), so 10,000 of them cost a few milliseconds of CPU on top of the sleep; one scheduler thread
 * completing a future is the least work. Measured with the default settings (2 forks × 40 single shots) on 2 vCPUs
 * (AMD EPYC, JDK 25.0.3); <b>runs 1–3 shared the cores with four other builds (load average 7–13)</b> and ran
 * before the loop named unnamed handles lazily, run 4 had the machine to itself. Time to completion in ms (ratio to
 * the 10 ms sleep), heap retained per pending sleeper ({@link SleeperFootprint}; run 3, and run 4 where it differs),
 * and heap allocated per sleeper over a round ({@code -prof gc}, a separate run of 1 fork × 30 shots, before lazy
 * names):
 * <pre>
 *   runtime              run 1          run 2          run 3          run 4 (idle)   retained/sleeper   allocated/sleeper
 *   toolkit-loop         29.1 ms 2.9×   25.7 ms 2.6×   23.6 ms 2.4×   21.3 ms 2.1×   515 B              1,239 B
 *   virtual-threads      22.4 ms 2.2×   30.9 ms 3.1×   23.3 ms 2.3×   17.6 ms 1.8×   744 B (712 B)      823 B
 *   completable-future   13.4 ms 1.3×   13.6 ms 1.4×   12.7 ms 1.3×   13.7 ms 1.4×   116 B              213 B
 * </pre>
 * The 99.9% errors were 1–36% of the means. The retained bytes were the same in every run for the loop and the
 * futures; for virtual threads, runs 1 and 2 (before the footprint had enough warm-up) gave 996 B and 1,564 B, and
 * the same measurement under {@code -Xint} gives about 2,200 B: interpreted frames are larger, so a virtual
 * thread's footprint depends on how far the JIT has got. The toolkit's allocation per sleeper (a task, two futures,
 * several handles, and then their names) is the largest: it is a model written for reading, not tuned.
 *
 * <p><b>Run</b> (from the repository root, with JDK 25):
 * <pre>
 *   mvn -o -q -pl bench -am package -DskipTests
 *   java --sun-misc-unsafe-memory-access=allow -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain sleepers
 *   java -jar bench/target/benchmarks.jar SleepersBenchmark -p runtime=virtual-threads -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 20)
@Measurement(iterations = 40)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--sun-misc-unsafe-memory-access=allow"})
public class SleepersBenchmark {

    /** The runtimes, in the order the runner prints them. */
    public static final String[] RUNTIMES = {"toolkit-loop", "virtual-threads", "completable-future"};

    @Param({"toolkit-loop", "virtual-threads", "completable-future"})
    public String runtime;

    @Param({"10000"})
    public int tasks;

    @Param({"10"})
    public int sleepMillis;

    private SelectorEventLoop loop;
    private ScheduledThreadPoolExecutor scheduler;

    @Setup
    public void setUp() {
        if (tasks < 1 || sleepMillis < 0) {
            throw new IllegalArgumentException("tasks must be ≥ 1 and sleepMillis ≥ 0, got " + tasks + " and "
                    + sleepMillis);
        }
        switch (runtime) {
            case "toolkit-loop" -> loop = SelectorEventLoop.builder().name("bench-sleepers").build();
            case "virtual-threads" -> { }
            case "completable-future" -> scheduler = newScheduler();
            default -> throw new IllegalArgumentException("unknown runtime: " + runtime + " (known: "
                    + String.join(", ", RUNTIMES) + ")");
        }
    }

    @TearDown
    public void tearDown() throws InterruptedException {
        if (loop != null) {
            loop.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    public int sleepers() throws InterruptedException {
        Duration sleep = Duration.ofMillis(sleepMillis);
        return switch (runtime) {
            case "toolkit-loop" -> loop.runUntilComplete(startLoopSleepers(loop, tasks, sleep));
            case "virtual-threads" -> {
                Thread[] threads = startVirtualSleepers(tasks, sleep);
                for (Thread thread : threads) {
                    thread.join();
                }
                yield threads.length;
            }
            default -> {
                CompletableFuture<?>[] futures = scheduleFutureSleepers(scheduler, tasks, sleep);
                CompletableFuture.allOf(futures).join();
                yield futures.length;
            }
        };
    }

    /** A one-thread scheduler that drops cancelled timers at once, as {@code delayedExecutor}'s does. */
    static ScheduledThreadPoolExecutor newScheduler() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("bench-sleepers-scheduler").daemon().factory());
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    /**
     * Creates {@code count} tasks on {@code loop}, each awaiting {@code loop.sleep(sleep)} once; the returned future
     * completes with {@code count} when the last has finished. Call on the loop's thread (or while it does not run).
     */
    static LoopFuture<Integer> startLoopSleepers(SelectorEventLoop loop, int count, Duration sleep) {
        LoopFuture<Integer> all = loop.createFuture("all sleepers");
        int[] finished = {0};
        for (int i = 0; i < count; i++) {
            loop.createTask(sleeper(loop, sleep)).addDoneCallback(task -> {
                if (++finished[0] == count) {
                    all.setResult(count);
                }
            });
        }
        return all;
    }

    /** {@code async def sleeper(): await asyncio.sleep(sleep)}, as a state machine. */
    static Coroutine<Void> sleeper(SelectorEventLoop loop, Duration sleep) {
        return new Coroutine<>() {
            private boolean slept;

            @Override
            public Step<Void> resume(Outcome<?> outcome) {
                outcome.orThrow();
                if (slept) {
                    return Step.done(null);
                }
                slept = true;
                return Step.await(loop.sleep(sleep));
            }
        };
    }

    /** Starts {@code count} virtual threads, each sleeping {@code sleep} once. */
    static Thread[] startVirtualSleepers(int count, Duration sleep) {
        Thread.Builder builder = Thread.ofVirtual().name("sleeper-", 0);
        Thread[] threads = new Thread[count];
        for (int i = 0; i < count; i++) {
            threads[i] = builder.start(() -> {
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        return threads;
    }

    /** {@code count} futures, each completed by {@code scheduler} {@code sleep} from now. */
    static CompletableFuture<?>[] scheduleFutureSleepers(ScheduledThreadPoolExecutor scheduler, int count,
                                                        Duration sleep) {
        CompletableFuture<?>[] futures = new CompletableFuture<?>[count];
        long nanos = sleep.toNanos();
        for (int i = 0; i < count; i++) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            scheduler.schedule(() -> future.complete(null), nanos, TimeUnit.NANOSECONDS);
            futures[i] = future;
        }
        return futures;
    }
}
