package dev.conclab.lab.gil;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * One "Python-like" thread of the model: it takes the GIL, runs its {@link Script} step by step, checking for a
 * drop request before every step (CPython's eval breaker), releases the GIL around blocking calls, and drops it
 * for good when the script ends.
 *
 * <p><b>Thread safety:</b> {@link #run} is called once, by the platform thread the {@link ModelInterpreter}
 * starts for it. {@link #stepsDone()} and {@link #awaitStarted()} may be called from any thread.
 */
final class ModelThread implements Runnable {

    private final Script script;
    private final ModelGil gil;
    private final CountDownLatch started = new CountDownLatch(1);
    /** Written only by this model thread. */
    private volatile long stepsDone;
    private volatile Throwable failure;

    ModelThread(Script script, ModelGil gil) {
        this.script = script;
        this.gil = gil;
    }

    String name() {
        return script.name();
    }

    /** How many steps (or slices of a {@link Step.ComputeUntil}) this thread has finished. */
    long stepsDone() {
        return stepsDone;
    }

    /**
     * Blocks until this thread has taken the GIL for the first time (or failed first), as
     * {@code threading.Thread.start()} returns once the new thread has run.
     */
    void awaitStarted() throws InterruptedException {
        started.await();
    }

    /** What ended the script early, other than an interrupt, or null. */
    Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        try {
            gil.take(this);
            started.countDown();
            for (Step step : script.steps()) {
                execute(step);
            }
        } catch (InterruptedException e) {
            // The run was cancelled: the interpreter reports it; just let the GIL go below.
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            started.countDown();
            if (gil.holds(this)) {
                dropForGood();
            }
        }
    }

    private void execute(Step step) throws InterruptedException {
        switch (step) {
            case Step.Spin spin -> {
                checkEvalBreaker();
                spin.compute();
                stepsDone++;
            }
            case Step.Count count -> {
                checkEvalBreaker();
                count.compute();
                stepsDone++;
            }
            case Step.Block block -> {
                checkEvalBreaker();
                gil.drop(this, GilEvent.DropReason.BLOCKING);
                Thread.sleep(Duration.ofNanos(block.micros() * 1_000));
                gil.take(this);
                stepsDone++;
            }
            case Step.ComputeUntil until -> {
                long deadline = System.nanoTime() + until.maxMicros() * 1_000;
                Step.Spin slice = new Step.Spin(until.sliceMicros());
                // The boundary comes first: a drop request pending when the condition turns true is still
                // answered, as a thread honours the eval breaker before it runs its next bytecode.
                while (true) {
                    checkEvalBreaker();
                    if (until.done().getAsBoolean() || System.nanoTime() - deadline >= 0) {
                        break;
                    }
                    slice.compute();
                    stepsDone++;
                }
            }
        }
    }

    /** The step boundary: honour a drop request, then queue for the GIL again (CPython's eval breaker). */
    private void checkEvalBreaker() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException(name() + " interrupted");
        }
        if (gil.dropRequested()) {
            gil.drop(this, GilEvent.DropReason.REQUESTED);
            gil.take(this);
        }
    }

    private void dropForGood() {
        try {
            gil.drop(this, GilEvent.DropReason.EXIT);
        } catch (InterruptedException e) {
            // An EXIT drop never waits; keep the flag for the thread's owner anyway.
            Thread.currentThread().interrupt();
        }
    }
}
