package dev.conclab.lab.experiments.asyncio;

import java.util.Arrays;

/**
 * How late the small requests of one {@link CpuStarvation} variant ran, in ms, and how long the CPU-bound work
 * itself took in that variant. Immutable.
 *
 * @param p50Ms     median lateness (actual run time minus due time)
 * @param p99Ms     99th-percentile lateness
 * @param maxMs     largest lateness
 * @param requests  how many requests were measured
 * @param handlerMs how long the CPU-bound handler took from start to end, ms (0 when there is none)
 */
record Lateness(double p50Ms, double p99Ms, double maxMs, int requests, double handlerMs) {

    /** The percentiles of {@code latenessNanos} (which is sorted in place), as the probe computes them. */
    static Lateness of(long[] latenessNanos, double handlerMs) {
        if (latenessNanos.length == 0) {
            throw new IllegalArgumentException("no request was measured");
        }
        Arrays.sort(latenessNanos);
        return new Lateness(percentile(latenessNanos, 0.50), percentile(latenessNanos, 0.99),
                latenessNanos[latenessNanos.length - 1] / 1e6, latenessNanos.length, handlerMs);
    }

    /** The value at rank round(q × (n − 1)) of a sorted array, in ms: the probe's percentile. */
    private static double percentile(long[] sorted, double q) {
        int index = (int) Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
        return sorted[index] / 1e6;
    }
}
