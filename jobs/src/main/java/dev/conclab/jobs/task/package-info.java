/**
 * What a task is: its states ({@link dev.conclab.jobs.task.TaskState}). The registry of named task functions, the
 * validation of arguments on submit and the per-task options live here too.
 */
package dev.conclab.jobs.task;
