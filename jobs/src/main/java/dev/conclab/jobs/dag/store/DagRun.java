package dev.conclab.jobs.dag.store;

import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.RunType;
import java.time.Instant;

/**
 * One DAG run as stored: a snapshot, not a live view.
 *
 * @param runId         unique over all DAGs: {@code dagId/type__logicalDate} (plus a suffix for same-instant triggers)
 * @param dagId         its DAG
 * @param type          why it exists
 * @param logicalDate   the start of its data interval (a manual run: when it was triggered)
 * @param state         its state
 * @param paramsJson    its parameters, a JSON object (the DAG's defaults overridden by the trigger's)
 * @param createdMillis when it was created
 * @param startMillis   when it became RUNNING, or 0
 * @param endMillis     when it ended, or 0
 */
public record DagRun(String runId, String dagId, RunType type, Instant logicalDate, DagRunState state,
                     String paramsJson, long createdMillis, long startMillis, long endMillis) {
}
