package dev.conclab.lab.gil;

/**
 * The CPU work of {@link Step.Count}: rounds of an xorshift generator, whose result is kept where the JIT must
 * assume it is read, so the loop cannot be folded away. Calibrated once per JVM, after a warm-up, so that
 * {@link Step.Count#forMicros} gives about the same duration on fast and slow machines. Thread-safe.
 */
final class Xorshift {

    private static volatile long sink;

    /** Rounds per µs on this machine, the best of five timed runs. */
    static final double ROUNDS_PER_MICRO = calibrate();

    private Xorshift() {
    }

    static void consume(long rounds) {
        long x = 0x9E3779B97F4A7C15L ^ rounds;
        for (long i = 0; i < rounds; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        sink = x;
    }

    private static double calibrate() {
        long rounds = 2_000_000;
        for (int i = 0; i < 5; i++) {
            consume(rounds);
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            consume(rounds);
            best = Math.min(best, System.nanoTime() - start);
        }
        return rounds / (Math.max(1, best) / 1_000.0);
    }
}
