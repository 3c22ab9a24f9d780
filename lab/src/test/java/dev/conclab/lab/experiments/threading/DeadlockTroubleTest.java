package dev.conclab.lab.experiments.threading;

import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunContext;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A deadlock thread that does not finish says why: the round's evidence is all a CI log keeps of a failed claim.
 */
class DeadlockTroubleTest {

    private final Deadlock experiment = new Deadlock();
    private final RunContext ctx = new RunContext(experiment,
            ParamValues.resolve(experiment.params(), Map.of(), true), true, ProgressListener.NONE);

    @Test
    void anInterruptedThreadIsNamedWithWhereTheInterruptLanded() throws InterruptedException {
        Deadlock.NamedLock a = new Deadlock.NamedLock("A");
        Deadlock.NamedLock b = new Deadlock.NamedLock("B");
        Deadlock.Worker worker = new Deadlock.Worker(ctx, Deadlock.Variant.ORDERED, "deadlock-1", a, b,
                new Deadlock.NamedLock("coarse"), new CountDownLatch(1), 10, 1, false);
        Thread thread = Thread.ofPlatform().name("deadlock-1").start(worker);
        awaitWaiting(thread); // it holds A and waits at the closed latch, which no one opens
        thread.interrupt();
        thread.join();

        assertThat(worker.outcome().finished()).isFalse();
        assertThat(worker.outcome().interrupted()).isTrue();
        assertThat(Deadlock.trouble(worker, thread)).startsWith("deadlock-1 did not finish: interrupted in nested");
        assertThat(a.isLocked()).isFalse();
    }

    @Test
    void aThreadThatThrowsIsNamedWithItsException() throws InterruptedException {
        Deadlock.Worker worker = new Deadlock.Worker(ctx, Deadlock.Variant.ORDERED, "deadlock-2",
                new Deadlock.NamedLock("B"), null, new Deadlock.NamedLock("coarse"), new CountDownLatch(1), 10, 3,
                false);
        Thread thread = Thread.ofPlatform().name("deadlock-2").uncaughtExceptionHandler((t, e) -> { })
                .unstarted(worker);
        thread.start();
        thread.join();

        assertThat(worker.outcome().finished()).isFalse();
        assertThat(worker.outcome().interrupted()).isFalse();
        assertThat(Deadlock.trouble(worker, thread))
                .startsWith("deadlock-2 did not finish: java.lang.NullPointerException")
                .contains(" in first (line ");
    }

    @Test
    void aThreadStillWaitingIsNamedWithItsStateAndFrame() throws InterruptedException {
        Deadlock.NamedLock a = new Deadlock.NamedLock("A");
        CountDownLatch go = new CountDownLatch(1);
        Deadlock.Worker worker = new Deadlock.Worker(ctx, Deadlock.Variant.COARSE, "deadlock-1", a,
                new Deadlock.NamedLock("B"), new Deadlock.NamedLock("coarse"), go, 10, 1, false);
        Thread thread = Thread.ofPlatform().name("deadlock-1").start(worker);
        try {
            awaitWaiting(thread); // it holds the coarse lock and waits at the latch, closed until the test opens it
            assertThat(Deadlock.trouble(worker, thread)).startsWith("deadlock-1 still WAITING at ");
        } finally {
            go.countDown();
            thread.join();
        }
        assertThat(Deadlock.trouble(worker, thread)).isEqualTo("deadlock-1 finished");
    }

    /** A polled condition: the worker parks at the latch once it holds its first lock. */
    private static void awaitWaiting(Thread thread) {
        while (thread.isAlive() && thread.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
    }
}
