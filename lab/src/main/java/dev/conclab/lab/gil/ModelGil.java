package dev.conclab.lab.gil;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The model's global interpreter lock: {@code take_gil} and {@code drop_gil} of CPython's {@code Python/ceval_gil.c}
 * (the "new GIL" of Python 3.2 and later), translated step by step.
 *
 * <h2>How a hand-over works</h2>
 * <pre>
 *  holder H (computing)                  waiter W
 *  ───────────────────                   ────────
 *                                        take: GIL locked → wait on cond, up to one interval
 *  step, step, step …                    … timed out, and switchNumber unchanged?
 *                                        → set dropRequest (the eval breaker)
 *  boundary: dropRequest set → drop:
 *     locked = false, signal cond        wakes, locked == false → takes it:
 *     forced switching: wait on          locked = true, lastHolder = W, switchNumber++,
 *     switchCond until lastHolder != H   signal switchCond, reset dropRequest
 *  take: GIL locked → waits …            runs its steps
 * </pre>
 * The waiter asks only if the lock has not changed hands during its whole wait ({@code switchNumber}), so a holder
 * that lets go by itself (a blocking call) is never asked. Without forced switching, H would call {@code take}
 * right after dropping and, being already on a core while W still has to be woken and scheduled, often win: the
 * "time slices" then last as long as H likes, which is what the GIL before 3.2 did to I/O threads.
 *
 * <h2>State</h2>
 * {@code locked} and {@code switchNumber} are guarded by {@code mutex}. {@code lastHolder} is written in
 * {@code take} with both {@code mutex} and {@code switchMutex} held, so either lock makes reading it safe.
 * {@code dropRequest} is volatile: the holder polls it at every step boundary without locking, as CPython's
 * eval loop polls {@code eval_breaker}. Lock order: {@code mutex} before {@code switchMutex}; {@code drop}
 * never holds both.
 *
 * <h2>Differences from CPython</h2>
 * The forced-switch wait loops until the switch has happened, where CPython waits once (a spurious wake-up there
 * is rare; a Java {@link Condition} documents them). {@link GilConfig.Wakeups#LATE} adds a gate that keeps a woken
 * waiter off the lock until the releasing thread has moved on; CPython has no such gate — the operating system
 * produces that order, often, but not every time.
 *
 * <p><b>Thread safety:</b> safe for use by the model threads of one run. {@link #take} blocks, interruptibly,
 * until the calling thread holds the GIL; {@link #drop} may block, interruptibly, in the forced-switch wait
 * (never for {@link GilEvent.DropReason#EXIT}).
 */
final class ModelGil {

    private final GilConfig config;
    private final GilRecorder recorder;

    private final ReentrantLock mutex = new ReentrantLock();
    /** Signalled when the GIL is released ({@code gil->cond}). */
    private final Condition released = mutex.newCondition();
    /** Signalled when a late-wake-up gate opens (the model's own addition; see {@link GilConfig.Wakeups#LATE}). */
    private final Condition gateOpened = mutex.newCondition();
    private final ReentrantLock switchMutex = new ReentrantLock();
    /** Signalled when a thread takes the GIL ({@code gil->switch_cond}). */
    private final Condition switched = switchMutex.newCondition();

    /** Guarded by {@code mutex}. */
    private boolean locked;
    /** Guarded by {@code mutex}: the number of times the GIL passed to a different thread. */
    private long switchNumber;
    /** Guarded by {@code mutex}: the releasing thread a woken waiter must let go first, or null. */
    private ModelThread gatedBy;
    /** Written holding both mutexes; read holding either. */
    private volatile ModelThread lastHolder;
    /** The drop request (CPython's {@code gil_drop_request}, seen through {@code eval_breaker}). */
    private volatile boolean dropRequest;

    ModelGil(GilConfig config, GilRecorder recorder) {
        this.config = config;
        this.recorder = recorder;
    }

    /** Blocks until {@code thread} holds the GIL ({@code take_gil}). */
    void take(ModelThread thread) throws InterruptedException {
        long asked = System.nanoTime();
        mutex.lockInterruptibly();
        try {
            awaitGate(thread);
            if (locked) {
                recorder.record(new GilEvent.WaitStart(thread.name(), System.nanoTime()));
                waitUntilReleased(thread);
            }
            switchMutex.lock();
            try {
                locked = true;
                if (lastHolder != thread) {
                    lastHolder = thread;
                    switchNumber++;
                }
                switched.signalAll();
            } finally {
                switchMutex.unlock();
            }
            dropRequest = false;
            if (gatedBy == thread) {
                openGate();
            }
            long now = System.nanoTime();
            recorder.record(new GilEvent.Take(thread.name(), now, now - asked));
        } finally {
            mutex.unlock();
        }
    }

    /** The wait loop of {@code take_gil}; called with {@code mutex} held and the GIL locked. */
    private void waitUntilReleased(ModelThread thread) throws InterruptedException {
        boolean requested = false;
        try {
            while (locked) {
                long savedSwitchNumber = switchNumber;
                boolean timedOut = released.awaitNanos(config.intervalNanos()) <= 0;
                awaitGate(thread);
                // A whole interval passed and nobody else got the GIL meanwhile: ask the holder to drop it.
                if (timedOut && locked && switchNumber == savedSwitchNumber) {
                    dropRequest = true;
                    requested = true;
                    // Read the holder's progress after setting the request: it sees the request within one step.
                    ModelThread holder = lastHolder;
                    recorder.record(new GilEvent.DropRequest(thread.name(), System.nanoTime(), holder.name(),
                            holder.stepsDone()));
                }
            }
        } catch (InterruptedException e) {
            // As CPython does for an exiting waiter (gh-96387): do not leave a request nobody will answer.
            if (requested) {
                dropRequest = false;
            }
            throw e;
        }
    }

    /**
     * Releases the GIL held by {@code thread} ({@code drop_gil}). With forced switching, a drop that answers a
     * pending request then waits until another thread has taken the GIL.
     *
     * @throws IllegalStateException if {@code thread} does not hold the GIL
     */
    void drop(ModelThread thread, GilEvent.DropReason reason) throws InterruptedException {
        mutex.lock();
        try {
            if (!locked || lastHolder != thread) {
                throw new IllegalStateException(thread.name() + " dropped a GIL it does not hold");
            }
            recorder.record(new GilEvent.Drop(thread.name(), System.nanoTime(), reason, thread.stepsDone()));
            if (reason == GilEvent.DropReason.REQUESTED && config.wakeups() == GilConfig.Wakeups.LATE) {
                gatedBy = thread;
            }
            locked = false;
            released.signal();
        } finally {
            mutex.unlock();
        }
        // A thread that exits never takes the GIL again: nothing to wait for (CPython passes tstate == NULL).
        if (reason == GilEvent.DropReason.EXIT || !config.forceSwitching()) {
            return;
        }
        if (config.wakeups() == GilConfig.Wakeups.LATE) {
            releaseGate(thread);
        }
        if (dropRequest) {
            switchMutex.lock();
            try {
                if (lastHolder == thread) {
                    dropRequest = false;
                    while (lastHolder == thread) {
                        switched.await();
                    }
                }
            } finally {
                switchMutex.unlock();
            }
        }
    }

    /** Whether the eval breaker is set: a waiter asks the holder to drop the GIL. Read without locking. */
    boolean dropRequested() {
        return dropRequest;
    }

    /** Whether {@code thread} holds the GIL now. */
    boolean holds(ModelThread thread) {
        mutex.lock();
        try {
            return locked && lastHolder == thread;
        } finally {
            mutex.unlock();
        }
    }

    /** Called with {@code mutex} held: a late-woken thread waits until the releaser has moved on. */
    private void awaitGate(ModelThread thread) throws InterruptedException {
        while (gatedBy != null && gatedBy != thread) {
            gateOpened.await();
        }
    }

    /** The releaser, about to wait for the switch, lets the late-woken waiter run. */
    private void releaseGate(ModelThread thread) {
        mutex.lock();
        try {
            if (gatedBy == thread) {
                openGate();
            }
        } finally {
            mutex.unlock();
        }
    }

    /** Called with {@code mutex} held. */
    private void openGate() {
        gatedBy = null;
        gateOpened.signalAll();
    }
}
