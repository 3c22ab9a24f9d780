/**
 * The consumer side: {@link dev.conclab.jobs.worker.Worker} reserves messages, runs their tasks on a chosen pool
 * ({@link dev.conclab.jobs.worker.PoolKind}) and settles them; {@link dev.conclab.jobs.worker.WorkerMain} runs one
 * in its own JVM.
 */
package dev.conclab.jobs.worker;
