/**
 * Experiments of issue 11, debugging: finding deadlocks, races, stalls, leaks, lost exceptions and orphaned
 * processes, and measuring concurrent code the right way (warm pools, turns, CPU time beside wall time) next to the
 * naive measurement that gets the answer wrong.
 *
 * <p>Each experiment makes the fault on purpose, forced with latches or barriers so it happens on every run, finds it
 * with the tool a reader would use, and shows the fix beside the broken version. Where a question is about Python, a
 * CPython probe runs the Python tools (faulthandler, sys._current_frames, asyncio debug mode, tracemalloc) on the same
 * fault. Every thread, pool and process an experiment starts is stopped before its {@code run} returns.
 */
package dev.conclab.lab.experiments.debugging;
