/**
 * Sinks that load the final aggregates all-or-nothing (CSV and JSON lines through an atomic file move, SQLite in one
 * transaction).
 */
package dev.conclab.etl.load;
