package dev.conclab.toolkit.diagnostics.doctor;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * All threads of one JVM at one instant, as read from {@code jcmd PID Thread.print -l}. Immutable and
 * thread-safe.
 *
 * @param takenAt when the dump was taken (by the sampling side's clock)
 * @param threads the platform threads of the dump that have a state line, in the dump's order
 * @param mounted the virtual threads mounted on a carrier at the dump (the text dump shows no others)
 */
public record ThreadDump(Instant takenAt, List<ThreadSample> threads, List<MountedVirtualThread> mounted) {
    public ThreadDump {
        Objects.requireNonNull(takenAt, "takenAt");
        threads = List.copyOf(threads);
        mounted = List.copyOf(mounted);
    }

    /** A dump without mounted virtual threads. */
    public ThreadDump(Instant takenAt, List<ThreadSample> threads) {
        this(takenAt, threads, List.of());
    }
}
