package dev.conclab.toolkit.diagnostics.doctor;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One thread as one thread dump saw it. Immutable and thread-safe.
 *
 * @param name       the thread's name
 * @param daemon     whether it is a daemon thread
 * @param state      its state at the dump
 * @param frames     its stack, innermost first, as printed ({@code java.util.HashMap.get(HashMap.java:556)})
 * @param waitingFor the lock it is trying to acquire ({@code synchronized} entry or a parked
 *                   {@code AbstractOwnableSynchronizer} acquire), or {@code Object.wait}'s monitor; empty if none
 * @param waitingLine the stack line at which it waits for {@code waitingFor} (empty if it waits for nothing)
 * @param held       the monitors and ownable synchronizers it holds
 */
public record ThreadSample(String name, boolean daemon, Thread.State state, List<String> frames,
                           Optional<LockId> waitingFor, Optional<String> waitingLine, List<LockId> held) {
    public ThreadSample {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        frames = List.copyOf(frames);
        Objects.requireNonNull(waitingFor, "waitingFor");
        Objects.requireNonNull(waitingLine, "waitingLine");
        held = List.copyOf(held);
    }

    /** The innermost {@code n} frames (fewer if the stack is shorter): the "where is it" of a stall check. */
    public List<String> topFrames(int n) {
        return frames.subList(0, Math.min(n, frames.size()));
    }

    /** The first frame outside the JDK's own packages, or the top frame if all are JDK frames; "" if none. */
    public String firstApplicationFrame() {
        return frames.stream().filter(f -> !isJdkFrame(f)).findFirst()
                .orElse(frames.isEmpty() ? "" : frames.getFirst());
    }

    static boolean isJdkFrame(String frame) {
        return frame.startsWith("java.") || frame.startsWith("jdk.") || frame.startsWith("sun.")
                || frame.startsWith("javax.") || frame.startsWith("com.sun.");
    }
}
