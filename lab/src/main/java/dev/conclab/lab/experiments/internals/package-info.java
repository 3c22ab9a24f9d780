/**
 * Experiments behind the GIL / Internals cards (internals-01 … internals-10) and the advanced cards about the GIL:
 * how often CPython switches threads, which operations release the GIL, what numpy and asyncio do about it, and why
 * the JVM needs no global lock.
 *
 * <p>Almost every claim here is measured on the real CPython beside the JVM, through a probe. The probes observe
 * the GIL only from outside, by what it lets a second thread do: a thread waiting for the GIL sleeps, so two threads
 * that take turns together use about one core however many the machine has, while an operation that releases the
 * GIL lets a pure-Python thread run meanwhile — on a second core if it computes, on the same core if it waits.
 * Claims that need two free cores say so and are skipped on fewer; claims that an operation <em>holds</em> the GIL
 * are the kind noise cannot make pass, because other processes can only take CPU away.
 */
package dev.conclab.lab.experiments.internals;
