/**
 * Child JVM processes: starting a class of the current class path in a fresh JVM, making such a child
 * exit when its parent dies, and giving a child that may be killed a temp directory its parent deletes.
 *
 * <p>The JVM cannot {@code fork()}: process-based parallelism on the JVM means starting another JVM, which pays
 * for its own start-up (class loading, JIT warm-up) and shares no heap with its parent. Everything that crosses
 * the boundary is bytes over pipes or sockets.
 */
package dev.conclab.toolkit.process;
