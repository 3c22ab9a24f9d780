package dev.conclab.lab.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * The DAGs and their latest runs, as the web lab's jobs page lists them ({@code ./conclab jobs dags} and
 * {@code jobs runs DAG} for every DAG). A snapshot; immutable.
 *
 * @param store the SQLite file of DAG runs
 * @param dags  the DAGs, in the order their definitions list them, then the DAGs known only from runs in the store
 *              (newest run first, at most {@link JobsReader#MAX_UNDEFINED_DAGS})
 * @param hint  why there are no runs and what to do (the store does not exist yet), else {@code null} (and then
 *              left out of the JSON)
 */
public record DagsOverview(String store, List<DagSummary> dags,
                           @JsonInclude(JsonInclude.Include.NON_NULL) String hint) {

    /** What to do when there is no DAG store yet. */
    public static final String TRIGGER_A_RUN = "no DAG runs yet: start a worker (./conclab jobs worker) and trigger"
            + " a run (./conclab jobs trigger nightly_report --wait 60)";

    public DagsOverview {
        dags = List.copyOf(dags);
    }

    /** The note on a DAG known only from its runs in the store. */
    public static final String DEFINITION_NOT_FOUND = "definition not found";

    /**
     * One DAG: its schedule, its task ids, and its newest runs.
     *
     * @param schedule  the cron schedule, or {@code null} when it only runs when triggered (or is not defined)
     * @param tasks     its task ids, in declaration order; for a DAG with no definition, those of its newest run,
     *                  by id
     * @param totalRuns how many runs it has in the store
     * @param runs      its newest runs, newest first (at most the number asked for)
     * @param note      {@link #DEFINITION_NOT_FOUND} for a DAG known only from its runs in the store (its file is
     *                  gone or not in the folder read), else {@code null} (and then left out of the JSON)
     */
    public record DagSummary(String id, String schedule, List<String> tasks, int totalRuns, List<DagRunView> runs,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String note) {

        public DagSummary {
            tasks = List.copyOf(tasks);
            runs = List.copyOf(runs);
        }
    }
}
