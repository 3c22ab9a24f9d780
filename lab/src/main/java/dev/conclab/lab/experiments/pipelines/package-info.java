/**
 * Experiments of issue 10, data pipelines: the pipeline engine, ETL with checkpoint and resume, vectorization
 * (scalar loops vs the incubating Vector API vs threads) and data-parallel training.
 *
 * <p>Each experiment measures itself on the reader's machine and judges its claims from what it measured; where a
 * question is about Python, a CPython probe runs beside the JVM. Every thread, pool and process an experiment starts
 * is stopped before its {@code run} returns.
 */
package dev.conclab.lab.experiments.pipelines;
