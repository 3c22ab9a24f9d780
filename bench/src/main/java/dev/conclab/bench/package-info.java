/**
 * JMH benchmarks. Each benchmark class puts the toolkit's building block beside the JDK's and peer libraries'
 * (Netty's event loops) in one run, so their numbers come from the same machine, JVM and settings. {@link
 * dev.conclab.bench.BenchMain} runs them and prints each one's results as ratios to a baseline, with the machine.
 */
package dev.conclab.bench;
