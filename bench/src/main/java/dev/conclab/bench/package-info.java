/**
 * JMH benchmarks. Each benchmark class puts the toolkit's building block beside the JDK's (and, later, peer
 * libraries') in one run, so their numbers come from the same machine, JVM and settings. {@link
 * dev.conclab.bench.BenchMain} runs one and prints its results as ratios to a baseline, with the machine.
 */
package dev.conclab.bench;
