/**
 * A model of CPython's global interpreter lock, running for real on JVM threads, that records every hand-over so
 * a timeline viewer can draw it.
 *
 * <p>This package belongs to the lab, not to the toolkit: it is a teaching model, not a building block. The CLI
 * ({@code ./conclab run gil-model --trace gil.json}) and the web lab draw what it records; the experiment
 * {@code gil-model} compares it with the real CPython on this machine.
 *
 * <h2>What is modelled</h2>
 * The "new GIL" of CPython 3.2 and later ({@code Python/ceval_gil.c}): one lock, a <em>switch interval</em>
 * ({@code sys.getswitchinterval()}, 5 ms by default), a <em>drop request</em> that a waiting thread sets when the
 * lock has not changed hands for one interval, a holder that honours the request at its next step boundary (the
 * "eval breaker" check between bytecodes), and <em>forced switching</em>: a thread that drops the lock on request
 * waits until another thread has taken it, so it cannot take it straight back. {@link ModelInterpreter} runs
 * {@link Script}s of {@link Step}s — CPU work, and blocking calls that release the lock — on platform threads and
 * returns a {@link GilRun}: the {@link GilEvent}s, in the order they happened.
 *
 * <h2>Where it simplifies</h2>
 * There is no bytecode: a step stands for the run of bytecodes between two eval-breaker checks, so the holder
 * answers a drop request within one step. There are no signals, pending calls, or garbage collector in the
 * breaker, and one lock serves all threads (as with one interpreter). The threads and their timing are real: the
 * operating system schedules them, and its noise shows in every run.
 *
 * <h2>Threads and time</h2>
 * Everything here is safe for concurrent use unless a class says otherwise. Times are {@link System#nanoTime()}
 * values, which are monotonic and shared by all threads of the JVM.
 */
package dev.conclab.lab.gil;
