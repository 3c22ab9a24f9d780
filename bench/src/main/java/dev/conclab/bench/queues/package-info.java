/** Benchmarks of queues and channels: how fast items move from a producer thread to a consumer thread. */
package dev.conclab.bench.queues;
