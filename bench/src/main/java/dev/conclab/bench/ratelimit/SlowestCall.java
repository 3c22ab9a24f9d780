package dev.conclab.bench.ratelimit;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.function.BooleanSupplier;

/**
 * The slowest single {@code tryAcquire} under 2-thread contention: two platform threads call one shared limiter
 * {@code calls} times each and time every call with {@link System#nanoTime()}; the tail (p99.9, p99.99, max) of
 * all calls is kept, and the best (lowest) of {@code rounds} rounds is reported for each, toolkit and Bucket4j
 * alternating round by round so that both see the same background noise. <b>BASELINE: Bucket4j</b> (the issue:
 * the toolkit's slowest call no worse than Bucket4j's).
 *
 * <p>JMH's {@code SampleTime} mode would time only a sample of calls; the maximum needs every call. The timer
 * itself costs about 20 ns per reading, on both sides alike. The maximum on a shared 2-core machine is dominated
 * by descheduling (a thread preempted inside a call), so it is noisy: judge the best of the rounds, and the
 * percentiles beside it.
 */
public final class SlowestCall {

    /** The limiters compared: the toolkit's and the baseline. */
    public static final List<String> LIMITERS = List.of("toolkit", "bucket4j");

    private static volatile boolean SINK;

    private SlowestCall() {
    }

    /** The tail of one limiter on one path, in nanoseconds: each the best over the rounds. */
    public record Tail(long p999, long p9999, long max) {
        Tail best(Tail other) {
            return other == null ? this
                    : new Tail(Math.min(p999, other.p999), Math.min(p9999, other.p9999), Math.min(max, other.max));
        }
    }

    /** The best tail of each limiter, by path ({@code admitted}, {@code rejected}) then limiter. */
    public static Map<String, Map<String, Tail>> measure(int calls, int rounds) throws InterruptedException {
        Map<String, Map<String, Tail>> tails = new LinkedHashMap<>();
        for (String path : List.of("admitted", "rejected")) {
            Map<String, Tail> byLimiter = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (String limiter : LIMITERS) {
                    Tail tail = round(limiter, path.equals("admitted"), calls);
                    byLimiter.merge(limiter, tail, Tail::best);
                }
            }
            tails.put(path, byLimiter);
        }
        return tails;
    }

    /** One round: a fresh limiter, two threads, every call timed after a warm-up of the same length. */
    private static Tail round(String limiter, boolean admitted, int calls) throws InterruptedException {
        BooleanSupplier tryAcquire = RateLimitBenchmark.make(limiter, admitted);
        if (!admitted) {
            tryAcquire.getAsBoolean();          // the only permit: every later call is refused
        }
        long[][] times = new long[2][calls];
        var start = new CyclicBarrier(2);
        Thread[] threads = new Thread[2];
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < 2; t++) {
            long[] mine = times[t];
            threads[t] = Thread.ofPlatform().name("slowest-call-" + t).start(() -> {
                try {
                    boolean sink = false;
                    for (int i = 0; i < calls; i++) {    // warm-up: JIT the call and the timing loop
                        long t0 = System.nanoTime();
                        sink ^= tryAcquire.getAsBoolean();
                        mine[i] = System.nanoTime() - t0;
                    }
                    start.await();
                    for (int i = 0; i < calls; i++) {
                        long t0 = System.nanoTime();
                        sink ^= tryAcquire.getAsBoolean();
                        mine[i] = System.nanoTime() - t0;
                    }
                    if (sink) {
                        SINK = true;                     // publishes the decisions: the calls are not dead code
                    }
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure[0] != null) {
            throw new IllegalStateException("round failed", failure[0]);
        }
        long[] all = new long[2 * calls];
        System.arraycopy(times[0], 0, all, 0, calls);
        System.arraycopy(times[1], 0, all, calls, calls);
        Arrays.sort(all);
        return new Tail(all[(int) (all.length * 0.999)], all[(int) (all.length * 0.9999)], all[all.length - 1]);
    }

    /** The 1-, 5- and 15-minute load averages from {@code /proc/loadavg}, or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    public static void print(Map<String, Map<String, Tail>> tails, int calls, int rounds, String machine,
                             PrintStream out) {
        out.println();
        out.printf("Slowest single tryAcquire, 2 threads on one shared limiter, %,d timed calls each, best of %d "
                + "rounds (SlowestCall)%n", calls, rounds);
        out.println("machine: " + machine + ", load average: " + loadAverage());
        out.printf("%-9s %-9s %10s %10s %12s %14s%n", "path", "limiter", "p99.9 ns", "p99.99 ns", "max ns",
                "max vs bucket4j");
        tails.forEach((path, byLimiter) -> {
            long baseline = byLimiter.get("bucket4j").max();
            byLimiter.forEach((limiter, tail) -> out.printf("%-9s %-9s %,10d %,10d %,12d %13.2f×%n", path, limiter,
                    tail.p999(), tail.p9999(), tail.max(), (double) tail.max() / baseline));
        });
    }
}
