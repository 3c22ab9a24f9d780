/**
 * Workloads and fixtures shared by experiments: fixed-size CPU work, a delayed loopback server, a loopback
 * connection whose far end writes only when told to, and a worker JVM.
 */
package dev.conclab.lab.experiments.support;
