/** Workloads and fixtures shared by experiments: fixed-size CPU work, a delayed loopback server, a worker JVM. */
package dev.conclab.lab.experiments.support;
