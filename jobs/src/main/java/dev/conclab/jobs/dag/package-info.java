/**
 * The DAG scheduler, Airflow-like: DAGs of tasks ({@link dev.conclab.jobs.dag.Dag}, declared with a builder or in a
 * YAML file), cron schedules, DAG runs whose state is persisted in a {@link dev.conclab.jobs.dag.store.DagStore},
 * and a {@link dev.conclab.jobs.dag.DagScheduler} that dispatches ready task instances to the task queue through
 * the {@link dev.conclab.jobs.broker.Broker} seam only (it never runs a task itself).
 */
package dev.conclab.jobs.dag;
