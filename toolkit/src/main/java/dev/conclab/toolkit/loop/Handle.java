package dev.conclab.toolkit.loop;

/**
 * A callback scheduled on a {@link SelectorEventLoop} ({@code callSoon}, {@code callLater}, {@code callAt}, or a
 * channel's readiness callback), which can be cancelled before it runs; asyncio's {@code Handle} and
 * {@code TimerHandle}.
 *
 * <p>{@link #cancel()} may be called from any thread: the flag is volatile and the loop checks it just before
 * running the callback, so a cancel that happens-before that check prevents the run. A cancel racing with the run
 * from another thread may come too late; from the loop thread it never does. A cancelled timer stays in the timer
 * heap until its deadline and is then dropped, as in asyncio.
 */
public final class Handle {

    /** Marks a handle that is not a timer. */
    static final long NO_DEADLINE = Long.MIN_VALUE;

    private final String name; // null: named after the callback, on demand
    private final Runnable callback;
    private final long deadline;
    private final long sequence;
    private volatile boolean cancelled;

    Handle(String name, Runnable callback, long deadline, long sequence) {
        this.name = name;
        this.callback = callback;
        this.deadline = deadline;
        this.sequence = sequence;
    }

    /**
     * The callback's name, as shown in slow-callback reports, stall reports and error reports: the name it was
     * scheduled with, or else the callback's {@code toString()}, computed when asked for (scheduling stays cheap).
     */
    public String name() {
        return name != null ? name : callback.toString();
    }

    /** Prevents the callback from running, if it has not run yet. Idempotent; callable from any thread. */
    public void cancel() {
        cancelled = true;
    }

    /** Whether {@link #cancel()} was called. */
    public boolean isCancelled() {
        return cancelled;
    }

    /** Whether this handle is a timer ({@code callLater}, {@code callAt}). */
    public boolean isTimer() {
        return deadline != NO_DEADLINE;
    }

    /**
     * A timer's deadline on the loop's clock ({@link SelectorEventLoop#time()}, nanoseconds).
     *
     * @throws IllegalStateException if this handle is not a timer
     */
    public long when() {
        if (!isTimer()) {
            throw new IllegalStateException("handle " + name() + " is not a timer");
        }
        return deadline;
    }

    Runnable callback() {
        return callback;
    }

    long deadline() {
        return deadline;
    }

    long sequence() {
        return sequence;
    }

    @Override
    public String toString() {
        return (isTimer() ? "TimerHandle[" : "Handle[") + name() + (cancelled ? ", cancelled]" : "]");
    }
}
