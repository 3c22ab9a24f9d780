/**
 * The embedded broker: one SQLite file in WAL mode ({@link dev.conclab.jobs.broker.sqlite.SqliteBroker}), the
 * default store of the task queue. Several worker JVMs may share the file; every read-modify-write is one
 * {@code BEGIN IMMEDIATE} transaction.
 */
package dev.conclab.jobs.broker.sqlite;
