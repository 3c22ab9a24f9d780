package dev.conclab.jobs.dag;

/** Why a DAG run exists; the prefix of its run id, as in Airflow ({@code scheduled__2026-01-01T00:00:00Z}). */
public enum RunType {
    /** Created by the scheduler for a cron interval, catch-up included. */
    SCHEDULED,
    /** Created by {@link DagScheduler#trigger}. */
    MANUAL,
    /** Created by {@link DagScheduler#backfill}. */
    BACKFILL;

    /** The run-id prefix: {@code scheduled}, {@code manual} or {@code backfill}. */
    public String prefix() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
