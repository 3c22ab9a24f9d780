package dev.conclab.jobs.dag;

import java.util.Locale;

/**
 * When a task may run, judged from the states of its direct upstream tasks, with Airflow's names and semantics
 * (the {@code trigger_rule} argument of an operator; {@code all_success} is the default). Each rule either lets the
 * task run, makes it wait, or ends it as {@link TaskInstanceState#SKIPPED} or
 * {@link TaskInstanceState#UPSTREAM_FAILED} without running it. "Failed" counts both FAILED and UPSTREAM_FAILED, as
 * Airflow counts them.
 *
 * <p>A task with no upstream tasks runs at once whatever its rule.
 */
public enum TriggerRule {
    /** Runs when every upstream succeeded; upstream_failed as soon as one failed, skipped as soon as one skipped. */
    ALL_SUCCESS,
    /** Runs when every upstream failed; skipped as soon as one succeeded or was skipped. */
    ALL_FAILED,
    /** Runs when every upstream is done, whatever the outcome. */
    ALL_DONE,
    /** Runs as soon as one upstream succeeded; upstream_failed if all are done and none succeeded. */
    ONE_SUCCESS,
    /** Runs as soon as one upstream failed (it does not wait for the rest); skipped if all are done and none failed. */
    ONE_FAILED,
    /** Runs when all are done and none failed (succeeded or skipped); upstream_failed as soon as one failed. */
    NONE_FAILED;

    /** What a rule decides for a task whose run is still open. */
    public enum Decision { WAIT, RUN, SKIP, UPSTREAM_FAILED }

    /**
     * Decides from counts of the upstream tasks' states.
     *
     * @param upstream  the number of direct upstream tasks
     * @param succeeded how many are SUCCESS
     * @param failed    how many are FAILED or UPSTREAM_FAILED
     * @param skipped   how many are SKIPPED
     */
    public Decision decide(int upstream, int succeeded, int failed, int skipped) {
        if (upstream == 0) {
            return Decision.RUN;
        }
        int done = succeeded + failed + skipped;
        boolean allDone = done == upstream;
        return switch (this) {
            case ALL_SUCCESS -> failed > 0 ? Decision.UPSTREAM_FAILED
                    : skipped > 0 ? Decision.SKIP
                    : succeeded == upstream ? Decision.RUN : Decision.WAIT;
            case ALL_FAILED -> succeeded + skipped > 0 ? Decision.SKIP
                    : failed == upstream ? Decision.RUN : Decision.WAIT;
            case ALL_DONE -> allDone ? Decision.RUN : Decision.WAIT;
            case ONE_SUCCESS -> succeeded > 0 ? Decision.RUN
                    : allDone ? Decision.UPSTREAM_FAILED : Decision.WAIT;
            case ONE_FAILED -> failed > 0 ? Decision.RUN
                    : allDone ? Decision.SKIP : Decision.WAIT;
            case NONE_FAILED -> failed > 0 ? Decision.UPSTREAM_FAILED
                    : allDone ? Decision.RUN : Decision.WAIT;
        };
    }

    /** The Airflow spelling: {@code all_success}, {@code one_failed}, ... */
    public String airflowName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses the Airflow spelling (case-insensitive).
     *
     * @throws IllegalArgumentException naming the known rules if {@code name} is none of them
     */
    public static TriggerRule parse(String name) {
        for (TriggerRule rule : values()) {
            if (rule.airflowName().equalsIgnoreCase(name.strip())) {
                return rule;
            }
        }
        StringBuilder known = new StringBuilder();
        for (TriggerRule rule : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(rule.airflowName());
        }
        throw new IllegalArgumentException("unknown trigger rule '" + name + "' (known: " + known + ")");
    }
}
