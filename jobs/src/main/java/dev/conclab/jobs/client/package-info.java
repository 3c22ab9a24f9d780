/**
 * The producer side: {@link dev.conclab.jobs.client.JobClient} submits tasks and canvases, reads their records and
 * revokes them; {@link dev.conclab.jobs.client.SubmitOptions} overrides a task's defaults per submission.
 */
package dev.conclab.jobs.client;
