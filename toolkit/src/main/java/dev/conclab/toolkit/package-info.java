/**
 * Concurrency building blocks with no dependency beyond the JDK.
 *
 * <p>Each subpackage holds one concept. Every public type states, in its class comment, what it guarantees:
 * whether it is thread-safe, which calls block and for how long, and what happens at the end of its life.
 * Preview APIs are kept out of this module, so its classes run without {@code --enable-preview}.
 */
package dev.conclab.toolkit;
