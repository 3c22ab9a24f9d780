/**
 * The jobs system: a Celery-like task queue and an Airflow-like DAG scheduler. Depends on the toolkit and its own
 * libraries (sqlite-jdbc, Jedis, Jackson), never on another system or on the lab.
 *
 * <p>Every part talks to storage through one seam, {@link dev.conclab.jobs.broker.Broker}: the embedded SQLite
 * broker (the default; one file, nothing to install) and the Redis Streams broker (workers on many machines) keep
 * the same contract, and one test suite holds both to it.
 */
package dev.conclab.jobs;
