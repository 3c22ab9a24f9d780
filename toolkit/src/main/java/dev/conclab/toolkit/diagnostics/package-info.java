/**
 * Diagnostics for running JVMs: finding threads that wait for each other forever.
 *
 * <p>Everything here observes; nothing changes the threads it looks at. A report is a snapshot taken through
 * {@link java.lang.management.ThreadMXBean}: by the time the caller reads it, a thread it names may have moved on
 * (for example, been interrupted out of the wait). What the JVM can see, and so what these classes can report,
 * is limited to cycles of <em>owned</em> locks between platform threads — see {@link
 * dev.conclab.toolkit.diagnostics.DeadlockDetector} for the exact boundary.
 */
package dev.conclab.toolkit.diagnostics;
