/**
 * The Concurrent network I/O section: serving and calling over the network with threads, virtual threads and
 * async code, measured on loopback. {@code api-handlers} and {@code async-frameworks} serve one small HTTP API
 * three ways on Javalin (a fixed platform-thread pool, virtual threads, async handlers) beside FastAPI on uvicorn,
 * and show where each model breaks; {@code connection-pool} and {@code async-bottlenecks} follow work into the
 * resources it waits for (a HikariCP pool over SQLite, a bounded downstream) and check the queueing against
 * Little's law.
 */
package dev.conclab.lab.experiments.network;
