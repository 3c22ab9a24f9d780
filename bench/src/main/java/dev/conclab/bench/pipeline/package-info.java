/** Benchmarks of the toolkit pipeline engine: its channel's item hand-off against {@code ArrayBlockingQueue}. */
package dev.conclab.bench.pipeline;
