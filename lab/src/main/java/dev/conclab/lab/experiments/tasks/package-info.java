/**
 * Experiments on distributed task queues and DAG schedulers (issue 9): Celery's worker model beside the {@code jobs}
 * module's worker, what happens to a task whose worker is killed, how work and rate limits spread over worker
 * processes that share one broker, and how a DAG scheduler keeps a fan-out busy.
 *
 * <p>Experiments here start real workers: CPython Celery workers through the {@code celery_model.py} probe, and
 * {@code jobs} workers in this JVM or in child JVMs ({@code WorkerMain}) on an SQLite broker in a temporary
 * directory or on a private {@code redis-server}. Every one of them is stopped before a run returns.
 */
package dev.conclab.lab.experiments.tasks;
