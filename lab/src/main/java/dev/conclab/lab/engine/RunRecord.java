package dev.conclab.lab.engine;

import java.util.Map;

/**
 * One finished run, as shown to users and stored as JSON: what ran with which values, how it ended, how long it
 * took, where it ran, and what it found.
 *
 * @param startedAt ISO-8601 instant
 * @param error     why the run failed or stopped, or {@code null}
 */
public record RunRecord(String experiment, String title, Map<String, Object> params, boolean quick,
                        RunStatus status, String error, String startedAt, double seconds,
                        MachineFacts machine, Result result) {

    /** True when the run completed and no claim failed. */
    public boolean allHold() {
        return status == RunStatus.COMPLETED && result.count(Verdict.Fails.class) == 0;
    }
}
