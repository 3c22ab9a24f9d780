/**
 * The canvas: task calls composed before submission ({@link dev.conclab.jobs.canvas.Signature},
 * {@link dev.conclab.jobs.canvas.Chain}, {@link dev.conclab.jobs.canvas.Group}, {@link dev.conclab.jobs.canvas.Chord}),
 * submitted through {@link dev.conclab.jobs.client.JobClient}. The composition lives in the broker (a message's
 * link, a chord's counter), not in a client that must stay alive.
 */
package dev.conclab.jobs.canvas;
