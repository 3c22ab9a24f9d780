package dev.conclab.toolkit.diagnostics.doctor;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * All threads of one JVM at one instant, as read from {@code jcmd PID Thread.print -l}. Immutable and
 * thread-safe.
 *
 * @param takenAt when the dump was taken (by the sampling side's clock)
 * @param threads the platform threads of the dump, in the dump's order
 */
public record ThreadDump(Instant takenAt, List<ThreadSample> threads) {
    public ThreadDump {
        Objects.requireNonNull(takenAt, "takenAt");
        threads = List.copyOf(threads);
    }
}
