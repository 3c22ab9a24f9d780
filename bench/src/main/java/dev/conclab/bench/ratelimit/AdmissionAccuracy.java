package dev.conclab.bench.ratelimit;

import dev.conclab.toolkit.ratelimit.RateLimiter;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission accuracy in real time: {@code threads} threads call {@code tryAcquire} on one token bucket for
 * {@code duration}; the permits admitted are compared with the ideal {@code rate × duration}, and every admission
 * checks that the running total never exceeded {@code rate × (now − drained) + 1} (no more than the budget, ever).
 *
 * <p>The bucket is drained before the run (those permits are not counted) and its burst is one second of the
 * rate: a caller descheduled for a few milliseconds on a busy machine would otherwise find the bucket full and
 * lose the overflow, which is the token bucket working as specified, not an admission error. What remains in the
 * bucket at the end (the last gap of the callers) is the residual error.
 */
public final class AdmissionAccuracy {

    private AdmissionAccuracy() {
    }

    /**
     * The outcome of a run.
     *
     * @param admitted   permits admitted
     * @param expected   {@code rate × duration}
     * @param error      {@code (admitted − expected) / (rate × elapsed)}, signed
     * @param overBudget admissions seen above {@code rate × (now − drained) + 1}
     */
    public record Outcome(long admitted, double expected, double error, long overBudget, Duration elapsed) {
    }

    public static Outcome measure(double rate, int burst, Duration duration, int threads) throws InterruptedException {
        RateLimiter limiter = RateLimiter.tokenBucket(rate, burst);
        var admitted = new AtomicLong();
        var over = new AtomicLong();
        var go = new java.util.concurrent.CountDownLatch(1);
        var times = new long[3];       // start, end: written before go.countDown(), read after go.await()
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long start = times[2];
                long end = times[1];
                while (System.nanoTime() - end < 0) {
                    if (limiter.tryAcquire()) {
                        long n = admitted.incrementAndGet();
                        // read the clock after counting: the bound can only be looser, never falsely tight
                        if (n > rate * (System.nanoTime() - start) / 1e9 + 1) {
                            over.incrementAndGet();
                        }
                    }
                }
            });
        }
        // the bucket starts full at start: the ideal is burst + rate × (end − start), the callers' clocks alike
        long drained;
        do {
            drained = System.nanoTime();        // before the refusal: the bucket held < 1 permit at this time
        } while (limiter.tryAcquire());
        times[2] = drained;
        times[0] = System.nanoTime();
        times[1] = times[0] + duration.toNanos();
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        long elapsed = duration.toNanos();
        double steady = rate * elapsed / 1e9;
        double expected = steady;
        return new Outcome(admitted.get(), expected, (admitted.get() - expected) / steady, over.get(),
                Duration.ofNanos(elapsed));
    }

    public static void print(Outcome o, double rate, int burst, int threads, String machine, PrintStream out) {
        out.println();
        out.printf("Admission accuracy in real time: token bucket %.0f/s, burst %d, %d threads, %.1f s%n", rate,
                burst, threads, o.elapsed().toNanos() / 1e9);
        out.println("machine: " + machine);
        out.printf("admitted %,d, ideal %,.0f, error %+.4f %% of the rate (issue: |error| ≤ 0.1 %%), "
                + "admissions above the burst bound: %d%n", o.admitted(), o.expected(), o.error() * 100, o.overBudget());
    }
}
