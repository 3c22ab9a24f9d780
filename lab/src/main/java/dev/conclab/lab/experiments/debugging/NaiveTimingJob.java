package dev.conclab.lab.experiments.debugging;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The CPU job of {@code naive-timing}'s JVM side, run on threads of the lab's JVM and, through the toolkit's
 * {@code ProcessPool}, in worker JVMs (which call these static methods by name). Stateless apart from the JDK's
 * generators; every method may be called from any number of threads.
 */
final class NaiveTimingJob {

    private NaiveTimingJob() {
    }

    /**
     * Monte Carlo hits of the unit quarter circle over {@code points} points drawn from {@link Math#random()}: one
     * generator for the whole JVM, so threads in one JVM contend on its seed (a compare-and-set per draw), while
     * each worker JVM has a generator of its own.
     */
    static long hitsSharedRandom(long points) {
        return hits(points, Math::random);
    }

    /** The same job drawing from {@link ThreadLocalRandom}: one generator per thread, nothing shared. */
    static long hitsLocalRandom(long points) {
        return hits(points, ThreadLocalRandom.current()::nextDouble);
    }

    private static long hits(long points, DoubleSupplier random) {
        long hits = 0;
        for (long i = 0; i < points; i++) {
            double x = random.getAsDouble();
            double y = random.getAsDouble();
            if (x * x + y * y <= 1) {
                hits++;
            }
        }
        return hits;
    }

    /** A task that does nothing: one round trip, to time a pool's start-up alone. */
    static long nothing(long value) {
        return value;
    }
}
