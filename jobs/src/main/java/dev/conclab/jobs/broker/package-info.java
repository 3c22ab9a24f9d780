/**
 * The broker seam ({@link dev.conclab.jobs.broker.Broker}) and what crosses it: messages, reservations,
 * settlements, task records. Implementations live in sub-packages, one per store.
 */
package dev.conclab.jobs.broker;
