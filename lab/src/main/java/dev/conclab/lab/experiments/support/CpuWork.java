package dev.conclab.lab.experiments.support;

/**
 * A fixed amount of CPU-bound work: {@code n} rounds of an xorshift generator, which the JIT cannot fold away
 * because the result is returned. The same {@code n} is the same work on any thread, so comparing wall times
 * across threading models compares the models, not the work.
 */
public final class CpuWork {

    private static volatile long sink;

    private CpuWork() {
    }

    /** Burns {@code n} rounds and returns a value that depends on every round. */
    public static long burn(long n) {
        long x = 0x9E3779B97F4A7C15L ^ n;
        for (long i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }

    /** Burns {@code n} rounds and keeps the result where the JIT must assume it is read. */
    public static void consume(long n) {
        sink = burn(n);
    }

    /**
     * How many rounds take about {@code millis} ms on this machine, measured after a warm-up so that the JIT has
     * compiled {@link #burn}. Calibrating keeps an experiment's run time the same on fast and slow machines.
     */
    public static long roundsFor(double millis) {
        for (int i = 0; i < 5; i++) {
            consume(2_000_000);
        }
        long best = Long.MAX_VALUE;
        long rounds = 2_000_000;
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            consume(rounds);
            best = Math.min(best, System.nanoTime() - start);
        }
        double perMilli = rounds / (best / 1e6);
        return Math.max(1_000, (long) (perMilli * millis));
    }
}
