package dev.conclab.bench.loop;

import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.SelectorEventLoop;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Heap retained per pending sleeper, for each runtime of {@link SleepersBenchmark}: heap in use with {@code count}
 * sleepers parked (each sleeping one hour) minus heap in use before they were created, divided by {@code count}.
 * Heap in use is {@link MemoryMXBean#getHeapMemoryUsage()}{@code .getUsed()} after three {@link System#gc()} calls
 * 20 ms apart; the loop, the scheduler and the array that holds the sleepers are created before the first reading,
 * so only the sleepers themselves are counted. The sleepers are then cancelled (loop closed, threads interrupted and
 * joined, scheduler shut down), so a measurement leaves no thread behind.
 *
 * <p>Not thread-safe: run one measurement at a time, in a JVM that does little else meanwhile (other threads
 * allocating would blur the difference). It blocks for the GCs, about a tenth of a second per measurement.
 */
public final class SleeperFootprint {

    /** Rounds measured and discarded before the measured ones. */
    public static final int WARMUP_ROUNDS = 3;

    private static final Duration PARKED = Duration.ofHours(1);
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private SleeperFootprint() {
    }

    /**
     * The median of {@code rounds} measurements of {@code count} sleepers, after {@value #WARMUP_ROUNDS} discarded
     * warm-up rounds: class loading, the virtual-thread scheduler's start, and the JIT. The JIT matters for virtual
     * threads: a parked virtual thread's stack chunk holds its frames as they are, and interpreted frames are larger
     * (measured here: about 2.2 KB per sleeper under {@code -Xint}, about 0.75 KB once compiled).
     *
     * @return bytes per pending sleeper
     * @throws IllegalArgumentException for an unknown runtime, {@code count < 1} or {@code rounds < 1}
     */
    public static double bytesPerSleeper(String runtime, int count, int rounds) throws InterruptedException {
        if (count < 1 || rounds < 1) {
            throw new IllegalArgumentException("count and rounds must be ≥ 1, got " + count + " and " + rounds);
        }
        for (int i = 0; i < WARMUP_ROUNDS; i++) {
            once(runtime, count);
        }
        double[] results = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            results[i] = once(runtime, count);
        }
        Arrays.sort(results);
        return results[rounds / 2];
    }

    /** One measurement: bytes per pending sleeper. */
    static double once(String runtime, int count) throws InterruptedException {
        return switch (runtime) {
            case "toolkit-loop" -> loopTasks(count);
            case "virtual-threads" -> virtualThreads(count);
            case "completable-future" -> scheduledFutures(count);
            default -> throw new IllegalArgumentException("unknown runtime: " + runtime + " (known: "
                    + String.join(", ", SleepersBenchmark.RUNTIMES) + ")");
        };
    }

    private static double loopTasks(int count) throws InterruptedException {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("footprint").build()) {
            long before = usedAfterGc();
            LoopFuture<Integer> all = SleepersBenchmark.startLoopSleepers(loop, count, PARKED);
            // Each task's first step (which starts its sleep) is queued before this marker, so when the marker
            // has run every task is parked on its timer.
            LoopFuture<Void> started = loop.createFuture("started");
            loop.callSoon(() -> started.setResult(null));
            loop.runUntilComplete(started);
            long after = usedAfterGc();
            Reference.reachabilityFence(all);
            return (after - before) / (double) count;
        }
    }

    private static double virtualThreads(int count) throws InterruptedException {
        Thread[] threads = new Thread[count];
        long before = usedAfterGc();
        Thread.Builder builder = Thread.ofVirtual().name("footprint-", 0);
        for (int i = 0; i < count; i++) {
            threads[i] = builder.start(() -> {
                try {
                    Thread.sleep(PARKED);
                } catch (InterruptedException e) {
                    // Interrupted at the end of the measurement: the thread ends.
                }
            });
        }
        try {
            for (Thread thread : threads) {
                while (thread.getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
            }
            long after = usedAfterGc();
            return (after - before) / (double) count;
        } finally {
            for (Thread thread : threads) {
                thread.interrupt();
            }
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    private static double scheduledFutures(int count) throws InterruptedException {
        ScheduledThreadPoolExecutor scheduler = SleepersBenchmark.newScheduler();
        try {
            CompletableFuture<?>[] futures = new CompletableFuture<?>[count];
            long before = usedAfterGc();
            for (int i = 0; i < count; i++) {
                CompletableFuture<Void> future = new CompletableFuture<>();
                scheduler.schedule(() -> future.complete(null), PARKED.toNanos(), TimeUnit.NANOSECONDS);
                futures[i] = future;
            }
            long after = usedAfterGc();
            Reference.reachabilityFence(futures);
            return (after - before) / (double) count;
        } finally {
            scheduler.shutdownNow();
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return MEMORY.getHeapMemoryUsage().getUsed();
    }
}
