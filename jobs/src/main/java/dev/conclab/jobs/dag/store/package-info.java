/** The DAG scheduler's durable state: DAG runs, task instances and their tries, in SQLite. */
package dev.conclab.jobs.dag.store;
