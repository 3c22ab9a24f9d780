package dev.conclab.lab.gil;

/**
 * One thing that happened to the model GIL: a thread began to wait for it, took it, was asked to drop it, or
 * dropped it. Every event is recorded while the GIL's internal mutex is held, so the order of a run's events is
 * the order in which they happened, and the {@link #nanos()} of consecutive events never decrease. Immutable.
 */
public sealed interface GilEvent permits GilEvent.WaitStart, GilEvent.Take, GilEvent.DropRequest, GilEvent.Drop {

    /** The thread (script name) the event happened to or was made by. */
    String thread();

    /** When, in {@link System#nanoTime()}. */
    long nanos();

    /** Why a holder let the GIL go. */
    enum DropReason {
        /** A waiter set the drop request and the holder saw it at a step boundary (the eval breaker). */
        REQUESTED,
        /** The holder began a blocking call, which releases the GIL. */
        BLOCKING,
        /** The thread's script ended. */
        EXIT
    }

    /** {@code thread} wanted the GIL and found it taken: it starts waiting on the GIL's condition. */
    record WaitStart(String thread, long nanos) implements GilEvent {
    }

    /**
     * {@code thread} took the GIL, having waited {@code waitNanos} since it asked for it (zero or a few µs when the
     * GIL was free).
     */
    record Take(String thread, long nanos, long waitNanos) implements GilEvent {
    }

    /**
     * Waiter {@code thread} waited a whole switch interval without the GIL changing hands, and set the drop
     * request. {@code holder} held the GIL then and had finished {@code holderSteps} steps of its script.
     */
    record DropRequest(String thread, long nanos, String holder, long holderSteps) implements GilEvent {
    }

    /** {@code thread} dropped the GIL for {@code reason}, having finished {@code steps} steps of its script. */
    record Drop(String thread, long nanos, DropReason reason, long steps) implements GilEvent {
    }
}
