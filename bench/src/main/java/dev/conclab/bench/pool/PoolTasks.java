package dev.conclab.bench.pool;

/**
 * The work the pool benchmarks run, as static methods so that worker processes can call them by name. Stateless;
 * safe to call from any thread.
 */
public final class PoolTasks {

    private PoolTasks() {
    }

    /** The tiniest task: all of its cost is the pool's. */
    public static long increment(long x) {
        return x + 1;
    }

    /**
     * {@code rounds} steps of a xorshift generator: pure CPU work with no allocation and no memory traffic, whose
     * result depends on every step so the JIT cannot drop the loop.
     */
    public static long burn(long rounds) {
        long x = 88172645463325252L ^ rounds;
        for (long i = 0; i < rounds; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }
}
