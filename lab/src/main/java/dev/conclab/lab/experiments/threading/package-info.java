/**
 * Experiments behind the Threading cards (threading-01 … threading-10) and the practical cards about threads:
 * race conditions and their cures, locks and conditions, deadlocks, queues between threads, context switches.
 *
 * <p>Races and deadlocks here are forced with barriers, latches and lock-queue checks, never with sleeps, so a
 * broken version shows its failure on every run and the correct version beside it never does.
 */
package dev.conclab.lab.experiments.threading;
