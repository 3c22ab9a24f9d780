package dev.conclab.lab.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Wall-clock timing for claims. A claim compares the best (shortest) of several runs: the best run is the one
 * least disturbed by the rest of the machine, so it is the most repeatable estimate of what the code costs.
 */
public final class Measure {

    private Measure() {
    }

    /** A block of work to time. */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    /** The samples of one measurement, in seconds. */
    public record Timing(List<Double> seconds) {
        public Timing {
            if (seconds.isEmpty()) {
                throw new IllegalArgumentException("a timing needs at least one sample");
            }
            seconds = List.copyOf(seconds);
        }

        public double best() {
            return Collections.min(seconds);
        }

        public double bestMillis() {
            return best() * 1_000;
        }

        public static Timing ofSeconds(double seconds) {
            return new Timing(List.of(seconds));
        }
    }

    /** Runs {@code work} {@code runs} times, checking for cancellation between runs. */
    public static Timing bestOf(int runs, RunContext ctx, Work work) throws Exception {
        List<Double> samples = new ArrayList<>(runs);
        for (int i = 0; i < runs; i++) {
            ctx.checkCancelled();
            long start = System.nanoTime();
            work.run();
            samples.add((System.nanoTime() - start) / 1e9);
        }
        return new Timing(samples);
    }

    /**
     * Times every block of {@code works} {@code runs} times, taking turns (a, b, c, a, b, c, ...), and returns one
     * timing per block in the same order. Taking turns spreads a slow or a fast spell of the machine (a neighbour's
     * burst, a core's turbo coming and going) over every variant, instead of handing it to whichever ran then; use it
     * when a claim compares the variants with each other.
     */
    public static List<Timing> bestOfEach(int runs, RunContext ctx, List<Work> works) throws Exception {
        List<List<Double>> samples = new ArrayList<>(works.size());
        works.forEach(w -> samples.add(new ArrayList<>(runs)));
        for (int i = 0; i < runs; i++) {
            for (int w = 0; w < works.size(); w++) {
                ctx.checkCancelled();
                long start = System.nanoTime();
                works.get(w).run();
                samples.get(w).add((System.nanoTime() - start) / 1e9);
            }
        }
        return samples.stream().map(Timing::new).toList();
    }

    /** How many times faster {@code fast} is than {@code slow}, by best runs. */
    public static double speedup(Timing slow, Timing fast) {
        return slow.best() / fast.best();
    }

    public static Duration toDuration(double seconds) {
        return Duration.ofNanos((long) (seconds * 1e9));
    }
}
