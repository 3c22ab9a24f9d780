/**
 * The jobs system (task queue and DAG scheduler) as the lab's faces read it: where its stores are
 * ({@link dev.conclab.lab.jobs.JobsStores}, the CLI's defaults), the views {@code ./conclab jobs inspect},
 * {@code jobs runs} and {@code jobs trace} print ({@link dev.conclab.lab.jobs.JobsInspection},
 * {@link dev.conclab.lab.jobs.DagRunView}, the Gantt trace) and a read-only reader of them for the web lab
 * ({@link dev.conclab.lab.jobs.JobsReader}). One source for the CLI and the web.
 */
package dev.conclab.lab.jobs;
