/**
 * The experiment engine: what an experiment declares, how it runs, and what it returns.
 *
 * <p>An {@link dev.conclab.lab.engine.Experiment} declares its parameters (typed, bounded, with a default and a
 * quick value) and its claims (sentences from the cards) before anything runs. The
 * {@link dev.conclab.lab.engine.Runner} runs it on a thread of its own with a timeout, lets the caller cancel
 * it, and turns what it reported into a {@link dev.conclab.lab.engine.RunRecord}: tables, series for charts, an
 * optional Chrome Trace Event timeline, and a verdict for every declared claim — HOLDS, FAILS or SKIPPED with a
 * reason. A declared claim the experiment never judged counts as FAILS; a claim it did not declare is refused.
 *
 * <p>Timing claims compare the best of several runs ({@link dev.conclab.lab.engine.Measure}) against a threshold
 * with a margin, and a claim that needs more cores than the machine has is SKIPPED, never silently passed.
 */
package dev.conclab.lab.engine;
