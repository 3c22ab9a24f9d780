package dev.conclab.lab.gil;

import java.util.function.BooleanSupplier;

/**
 * One step of a model thread's {@link Script}. A step stands for the bytecodes a CPython thread runs between two
 * checks of its eval breaker: the thread checks for a drop request before every step, never in the middle of one.
 * Steps are immutable (a {@link ComputeUntil}'s condition is the caller's to make thread-safe).
 */
public sealed interface Step permits Step.Spin, Step.Count, Step.Block, Step.ComputeUntil {

    /** CPU work while holding the GIL: spins until {@code micros} µs of real time have passed. */
    record Spin(long micros) implements Step {
        public Spin {
            positive("Spin", micros);
        }

        /** Does the work on the calling thread, holding nothing: what a thread without a GIL would do. */
        public void compute() {
            spin(micros * 1_000);
        }
    }

    /**
     * CPU work while holding the GIL: {@code rounds} rounds of an xorshift generator. Unlike {@link Spin}, the same
     * rounds are the same work on any thread, so it shows whether threads add speed.
     */
    record Count(long rounds) implements Step {
        public Count {
            positive("Count", rounds);
        }

        /** About {@code micros} µs of work on this machine, calibrated once (after a warm-up) per JVM. */
        public static Count forMicros(long micros) {
            positive("Count.forMicros", micros);
            return new Count(Math.max(1, Math.round(Xorshift.ROUNDS_PER_MICRO * micros)));
        }

        /** Does the work on the calling thread, holding nothing: what a thread without a GIL would do. */
        public void compute() {
            Xorshift.consume(rounds);
        }
    }

    /**
     * A blocking call (a sleep, a socket read): the thread releases the GIL, parks for {@code micros} µs, and takes
     * the GIL back before its next step, as CPython does around {@code time.sleep} and blocking I/O.
     */
    record Block(long micros) implements Step {
        public Block {
            positive("Block", micros);
        }
    }

    /**
     * CPU work in slices of {@code sliceMicros} µs, with a step boundary before each, until {@code done} returns
     * true or {@code maxMicros} µs have passed. The condition is checked at each boundary after the eval breaker,
     * so a drop request pending at that moment is answered first. It lets a script compute "until the other
     * thread has done something", which orders a run without sleeps.
     */
    record ComputeUntil(BooleanSupplier done, long sliceMicros, long maxMicros) implements Step {
        public ComputeUntil {
            if (done == null) {
                throw new NullPointerException("ComputeUntil needs a condition");
            }
            positive("ComputeUntil slice", sliceMicros);
            positive("ComputeUntil max", maxMicros);
        }
    }

    private static void positive(String what, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + value);
        }
    }

    private static void spin(long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
    }
}
