package dev.conclab.lab.experiments.support;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Bounded latch waits for experiments: a forced ordering that does not arrive is a bug in the experiment, so it
 * fails with the name of what was awaited instead of hanging the run.
 *
 * <p>Stateless; thread-safe. {@link #await} blocks up to its bound and is interruptible.
 */
public final class Latches {

    private Latches() {
    }

    /**
     * Waits for {@code latch} to reach zero.
     *
     * @throws IllegalStateException if it does not within {@code seconds}; the message names {@code what}
     */
    public static void await(CountDownLatch latch, long seconds, String what) throws InterruptedException {
        if (!latch.await(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("gave up after " + seconds + " s waiting for " + what);
        }
    }
}
