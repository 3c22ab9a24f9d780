package dev.conclab.toolkit.pipeline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one worker of a stage: written only by that worker, with release stores (no atomic
 * read-modify-write per item), read by snapshots from any thread. Busy time is the worker's life minus the time it
 * waited for input or for room downstream, measured with two clock reads per wait rather than two per item.
 */
final class WorkerStats implements BatchingChannel.WaitClock {
    private static final VarHandle IN;
    private static final VarHandle OUT;
    private static final VarHandle ATTEMPTS;
    private static final VarHandle BUSY;
    private static final VarHandle SINCE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            IN = l.findVarHandle(WorkerStats.class, "in", long.class);
            OUT = l.findVarHandle(WorkerStats.class, "out", long.class);
            ATTEMPTS = l.findVarHandle(WorkerStats.class, "attempts", long.class);
            BUSY = l.findVarHandle(WorkerStats.class, "busy", long.class);
            SINCE = l.findVarHandle(WorkerStats.class, "since", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Padding: the workers' counters are written per item by different cores; keep them on separate lines.
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
    private long in;
    private long out;
    private long attempts; // calls of the stage's function
    private long busy; // nanos, completed busy spells
    private long since; // nanoTime the current busy spell began; 0 while waiting or not running

    void countIn() {
        IN.setRelease(this, in + 1);
    }

    void countOut() {
        OUT.setRelease(this, out + 1);
    }

    void countAttempt() {
        ATTEMPTS.setRelease(this, attempts + 1);
    }

    /** The worker starts: busy from now. */
    void start() {
        resume();
    }

    /** The worker ends. */
    void stop() {
        pause();
    }

    @Override
    public void pause() {
        if (since != 0) {
            BUSY.setRelease(this, busy + (System.nanoTime() - since));
            SINCE.setRelease(this, 0L);
        }
    }

    @Override
    public void resume() {
        if (since == 0) {
            SINCE.setRelease(this, System.nanoTime() | 1); // never 0
        }
    }

    /** Runs {@code wait}, a blocking call, leaving it out of the busy time. */
    void waiting(BatchingChannel.BeforeWait wait) throws InterruptedException {
        pause();
        try {
            wait.run();
        } finally {
            resume();
        }
    }

    long in() {
        return (long) IN.getAcquire(this);
    }

    long out() {
        return (long) OUT.getAcquire(this);
    }

    long attempts() {
        return (long) ATTEMPTS.getAcquire(this);
    }

    /** Busy nanos so far, including the current spell (a snapshot). */
    long busyNanos() {
        long s = (long) SINCE.getAcquire(this);
        long b = (long) BUSY.getAcquire(this);
        return s == 0 ? b : b + Math.max(0, System.nanoTime() - s);
    }
}
