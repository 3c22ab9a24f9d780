package dev.conclab.lab.web;

import java.util.Optional;

/**
 * The web lab's global cap on concurrent runs, shared by experiment runs ({@link RunManager}) and system runs
 * ({@link SystemRuns}): a run takes a slot before it starts and gives it back once it has ended.
 *
 * <p><b>Thread safety:</b> safe for concurrent use; {@link #tryTake()} is atomic, so the cap is never exceeded
 * however many callers race. Never blocks.
 */
public final class RunSlots {

    private final int cap;
    /** Guarded by this. */
    private int taken;

    /** @param cap at most this many runs at once, at least 1 */
    public RunSlots(int cap) {
        if (cap < 1) {
            throw new IllegalArgumentException("the run cap must be at least 1, not " + cap);
        }
        this.cap = cap;
    }

    public int cap() {
        return cap;
    }

    /** How many slots are taken now. */
    public synchronized int taken() {
        return taken;
    }

    /**
     * Takes a slot, or, when all {@link #cap()} are taken, takes none and returns the refusal's one-line message
     * ("N runs are already running (the cap is N); try again when one ends").
     */
    public synchronized Optional<String> tryTake() {
        if (taken >= cap) {
            return Optional.of(taken + " runs are already running (the cap is " + cap + "); try again when one ends");
        }
        taken++;
        return Optional.empty();
    }

    /** Gives back a slot taken by {@link #tryTake()}. */
    public synchronized void release() {
        if (taken == 0) {
            throw new IllegalStateException("no run slot is taken");
        }
        taken--;
    }
}
