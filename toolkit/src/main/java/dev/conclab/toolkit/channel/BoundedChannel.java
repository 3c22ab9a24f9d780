package dev.conclab.toolkit.channel;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded, blocking, closeable channel of items from producers to consumers, in FIFO order: the counterpart of a
 * buffered Go channel, or of Python's {@code queue.Queue(maxsize=n)} with {@code shutdown()}.
 *
 * <p><b>Bound and blocking.</b> The channel holds at most {@link #capacity()} items, fixed at construction.
 * {@link #send(Object)} waits while the channel is full, so a producer faster than its consumers is held to their
 * pace (backpressure) instead of filling memory; {@link #receive()} waits while it is empty. Timed variants give up
 * after a timeout, and {@link #trySend(Object)} does not wait at all. Null items are refused with a
 * {@link NullPointerException}, so that no value needs to be reserved as a sentinel.
 *
 * <p><b>Closing.</b> {@link #close()} ends the stream of items: it is idempotent, never blocks, and wakes every
 * waiting thread. After it:
 * <ul>
 *   <li>every send throws {@link ChannelClosedException}, including a send that was waiting for space (its item
 *       is not added);</li>
 *   <li>receivers still get every item sent before the close, in order; once the channel is empty, every receive
 *       returns {@link Optional#empty()} at once: the end of the stream.</li>
 * </ul>
 * Consumers therefore stop with {@code while ((item = ch.receive()).isPresent())}, with no poison pill and no
 * need to know how many consumers there are. Closing is the producers' side's job: consumers that want to stop
 * early just stop receiving.
 *
 * <p><b>Fairness.</b> Like {@link java.util.concurrent.ArrayBlockingQueue}, a channel may be created fair, in which
 * case waiting senders and receivers get the lock in FIFO order, at a cost in throughput. A non-fair channel (the
 * default) makes no ordering promise between waiting threads. Either way, items leave in the order they entered.
 *
 * <p><b>Memory consistency effects.</b> Actions in a thread prior to sending an item happen-before actions
 * subsequent to the receipt of that item in another thread. Actions prior to {@code close()} happen-before a
 * receive that returns the end of the stream and a send that throws {@link ChannelClosedException}.
 *
 * <p><b>Interruption.</b> The blocking calls throw {@link InterruptedException} if the thread is interrupted on
 * entry or while waiting; a send interrupted while waiting has not added its item.
 *
 * <p><b>Thread safety.</b> All methods are safe for concurrent use by any number of producers and consumers. One
 * {@link ReentrantLock} with two conditions guards the state, so waiting threads, virtual threads included, park
 * without holding a monitor. {@link #size()} and the other queries are exact at the moment they run and may be
 * stale by the time the caller reads them.
 *
 * @param <T> the type of the items
 */
public final class BoundedChannel<T> implements AutoCloseable {

    private final Object[] items; // guarded by lock; a ring of `count` items from `head` (inclusive) to `tail`
    private final ReentrantLock lock;
    private final Condition notFull;
    private final Condition notEmpty;
    private int head; // guarded by lock; index of the next item to receive
    private int tail; // guarded by lock; index of the next free slot
    private int count; // guarded by lock
    private boolean closed; // guarded by lock

    /** A non-fair channel that holds at most {@code capacity} items. */
    public BoundedChannel(int capacity) {
        this(capacity, false);
    }

    /**
     * A channel that holds at most {@code capacity} items.
     *
     * @param fair whether waiting threads get the lock in FIFO order
     * @throws IllegalArgumentException if {@code capacity} is less than 1
     */
    public BoundedChannel(int capacity, boolean fair) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.items = new Object[capacity];
        this.lock = new ReentrantLock(fair);
        this.notFull = lock.newCondition();
        this.notEmpty = lock.newCondition();
    }

    /**
     * Adds {@code item} at the tail, waiting while the channel is full.
     *
     * @throws ChannelClosedException if the channel is closed, before or while waiting
     * @throws InterruptedException   if interrupted while waiting; the item was not added
     * @throws NullPointerException   if {@code item} is null
     */
    public void send(T item) throws InterruptedException {
        Objects.requireNonNull(item, "item");
        lock.lockInterruptibly();
        try {
            while (count == items.length && !closed) {
                notFull.await();
            }
            enqueue(item);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code item} at the tail, waiting up to {@code timeout} while the channel is full.
     *
     * @return {@code true} if the item was added, {@code false} if the channel was still full after the timeout
     * @throws ChannelClosedException if the channel is closed, before or while waiting
     * @throws InterruptedException   if interrupted while waiting; the item was not added
     * @throws NullPointerException   if {@code item} or {@code unit} is null
     */
    public boolean send(T item, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(item, "item");
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (count == items.length && !closed) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = notFull.awaitNanos(nanos);
            }
            enqueue(item);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code item} at the tail if there is room now; never waits.
     *
     * @return {@code true} if the item was added, {@code false} if the channel is full
     * @throws ChannelClosedException if the channel is closed
     * @throws NullPointerException   if {@code item} is null
     */
    public boolean trySend(T item) {
        Objects.requireNonNull(item, "item");
        lock.lock();
        try {
            if (count == items.length && !closed) {
                return false;
            }
            enqueue(item);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns the head item, waiting while the channel is empty and open.
     *
     * @return the head item, or {@link Optional#empty()} once the channel is closed and every item sent before
     *         the close has been received (the end of the stream)
     * @throws InterruptedException if interrupted while waiting
     */
    public Optional<T> receive() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (count == 0 && !closed) {
                notEmpty.await();
            }
            return Optional.ofNullable(dequeue());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns the head item, waiting up to {@code timeout} while the channel is empty and open.
     *
     * @return the head item, or {@link Optional#empty()} at the end of the stream (closed and drained)
     * @throws TimeoutException     if the channel was still empty and open after the timeout
     * @throws InterruptedException if interrupted while waiting
     * @throws NullPointerException if {@code unit} is null
     */
    public Optional<T> receive(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (count == 0 && !closed) {
                if (nanos <= 0) {
                    throw new TimeoutException("no item within " + timeout + " " + unit.name().toLowerCase());
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return Optional.ofNullable(dequeue());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the channel: later sends fail, and receivers drain what is left, then see the end of the stream.
     * Wakes every waiting sender and receiver. Idempotent; never blocks for long (it takes the lock).
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                notFull.signalAll();
                notEmpty.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the channel is closed and empty, so that every receive returns the end of the stream at once. */
    public boolean isDrained() {
        lock.lock();
        try {
            return closed && count == 0;
        } finally {
            lock.unlock();
        }
    }

    /** The number of items in the channel now; never more than {@link #capacity()}. */
    public int size() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** The most items the channel holds, as given at construction. */
    public int capacity() {
        return items.length;
    }

    /** How many items could be sent now without waiting (0 when full). */
    public int remainingCapacity() {
        lock.lock();
        try {
            return items.length - count;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether some sender is waiting for space now. Meant for monitoring and for tests that must know a sender
     * is blocked before they act, like {@link ReentrantLock#hasQueuedThreads()}.
     */
    public boolean hasWaitingSenders() {
        lock.lock();
        try {
            return lock.hasWaiters(notFull);
        } finally {
            lock.unlock();
        }
    }

    /** Whether some receiver is waiting for an item now; see {@link #hasWaitingSenders()}. */
    public boolean hasWaitingReceivers() {
        lock.lock();
        try {
            return lock.hasWaiters(notEmpty);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "BoundedChannel[" + count + "/" + items.length + (closed ? ", closed]" : "]");
        } finally {
            lock.unlock();
        }
    }

    /** Adds at the tail. Caller holds the lock and has checked there is room or the channel is closed. */
    private void enqueue(T item) {
        if (closed) {
            throw new ChannelClosedException("cannot send: the channel is closed");
        }
        items[tail] = item;
        if (++tail == items.length) { // wrap without a division
            tail = 0;
        }
        count++;
        notEmpty.signal();
    }

    /** Removes the head, or returns null when empty (closed). Caller holds the lock. */
    private T dequeue() {
        if (count == 0) {
            return null;
        }
        @SuppressWarnings("unchecked")
        T item = (T) items[head];
        items[head] = null; // let the item be collected
        if (++head == items.length) {
            head = 0;
        }
        count--;
        notFull.signal();
        return item;
    }
}
