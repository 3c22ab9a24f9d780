package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.task.TaskContext;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One message a worker holds, from its reservation to its settlement. Exactly one party settles it: whoever moves
 * {@link #state} out of PREFETCHED or RUNNING by compare-and-set (the body's thread, the hard-limit timer, the
 * revocation poll, the shutdown). Thread-safe.
 */
final class InFlight implements TaskContext {

    enum State { PREFETCHED, RUNNING, SETTLING, ABANDONED, RELEASED, REVOKED, LOST, DONE }

    final Delivery delivery;
    final AtomicReference<State> state = new AtomicReference<>(State.PREFETCHED);
    /** Set once the hold is given up (held map, prefetch room, execution slot): see Worker.finish. */
    final AtomicBoolean finished = new AtomicBoolean();
    volatile boolean holdsSlot;
    volatile boolean revoked;
    volatile boolean softLimited;
    volatile Thread thread;
    volatile Future<?> remote;
    volatile long startedNanos;
    volatile ScheduledFuture<?> softTimer;
    volatile ScheduledFuture<?> hardTimer;

    InFlight(Delivery delivery) {
        this.delivery = delivery;
    }

    String id() {
        return delivery.message().id();
    }

    boolean move(State from, State to) {
        return state.compareAndSet(from, to);
    }

    /** Stops the body: interrupts its thread and, with the process pool, cancels the call (killing the child). */
    void interrupt() {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
        Future<?> f = remote;
        if (f != null) {
            f.cancel(true);
        }
    }

    void cancelTimers() {
        ScheduledFuture<?> s = softTimer;
        if (s != null) {
            s.cancel(false);
        }
        ScheduledFuture<?> h = hardTimer;
        if (h != null) {
            h.cancel(false);
        }
    }

    @Override
    public String taskId() {
        return id();
    }

    @Override
    public int attempt() {
        return delivery.message().attempt();
    }

    @Override
    public int deliveries() {
        return delivery.deliveryCount();
    }

    @Override
    public boolean revoked() {
        return revoked;
    }
}
