/**
 * Benchmarks of the toolkit pipeline engine: its channel's item hand-off against {@code ArrayBlockingQueue}
 * ({@link dev.conclab.bench.pipeline.ChannelHandoffBenchmark}, JMH), and a whole source → map → sink pipeline
 * against the same chain on two {@code ArrayBlockingQueue}s ({@link dev.conclab.bench.pipeline.EngineThroughput}).
 */
package dev.conclab.bench.pipeline;
