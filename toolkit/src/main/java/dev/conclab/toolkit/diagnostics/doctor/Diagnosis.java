package dev.conclab.toolkit.diagnostics.doctor;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the doctor found in one JVM: the findings of one round of samples, most serious first (deadlocks, then
 * stalls, contention, pinning, overuse, child processes). An empty list means no alarm. Immutable and
 * thread-safe.
 *
 * @param pid      the target's process id
 * @param samples  how many thread dumps the round took
 * @param threads  platform threads in the last dump
 * @param elapsed  wall time of the round, from the first dump requested to the analysis done
 * @param findings the problems found, each with its evidence
 */
public record Diagnosis(long pid, int samples, int threads, Duration elapsed, List<Finding> findings) {
    public Diagnosis {
        Objects.requireNonNull(elapsed, "elapsed");
        findings = List.copyOf(findings);
    }

    /** Whether nothing was found. */
    public boolean healthy() {
        return findings.isEmpty();
    }

    /** The findings of one kind, in order. */
    public <F extends Finding> List<F> findings(Class<F> kind) {
        return findings.stream().filter(kind::isInstance).map(kind::cast).toList();
    }
}
