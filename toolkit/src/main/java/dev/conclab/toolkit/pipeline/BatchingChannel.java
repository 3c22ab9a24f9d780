package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A bounded, blocking, closeable channel that hands items over in batches: each producing thread fills a private
 * batch through its own {@link Sender} and hands the whole batch over when it is full or flushed, and each consuming
 * thread takes a whole batch through its own {@link Receiver} and then reads it without synchronization. One lock
 * acquisition per batch instead of one per item is what makes the hand-off several times faster than an
 * {@link java.util.concurrent.ArrayBlockingQueue}; nothing spins.
 *
 * <p><b>Bound.</b> At most {@code capacity} full batches wait in the channel, plus one partial batch in each
 * sender and one batch being read in each receiver: at most
 * {@code (capacity + senders + receivers) × batchSize} items in all. A sender waits while the channel is full.
 *
 * <p><b>Latency.</b> An item stays in its sender's batch until the batch is full or {@link Sender#flush()} is
 * called, so a producer with nothing more to send right now should flush (for example before it blocks on its own
 * input): that keeps latency low without a timer.
 *
 * <p><b>Order.</b> Items of one sender are received in the order they were sent when there is one receiver; with
 * several receivers, each batch goes to one of them.
 *
 * <p><b>Closing.</b> {@link #close()} ends the stream: senders must have flushed first (a {@link Sender#close()}
 * flushes); items of batches handed over before the close are still received, then {@link Receiver#receive()}
 * returns {@code null}.
 *
 * <p><b>Thread safety.</b> The channel is safe for any number of threads; a {@code Sender} or {@code Receiver} is
 * confined to one thread at a time. Actions before sending an item happen-before the receipt of that item, as for
 * {@link BoundedChannel}, which carries the batches.
 *
 * @param <T> the type of the items
 */
public final class BatchingChannel<T> implements AutoCloseable {

    private final BoundedChannel<Object[]> batches;
    private final int batchSize;

    /**
     * A channel holding at most {@code capacity} batches of {@code batchSize} items.
     *
     * @throws IllegalArgumentException if either is less than 1
     */
    public BatchingChannel(int capacity, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        this.batches = new BoundedChannel<>(capacity);
        this.batchSize = batchSize;
    }

    /** A new sender, for one producing thread. */
    public Sender<T> newSender() {
        return new Sender<>(this);
    }

    /** A new receiver, for one consuming thread. */
    public Receiver<T> newReceiver() {
        return new Receiver<>(this);
    }

    /** The most items in one batch. */
    public int batchSize() {
        return batchSize;
    }

    /** The most full batches waiting in the channel. */
    public int capacity() {
        return batches.capacity();
    }

    /** Batches waiting now (a snapshot). */
    public int batchesWaiting() {
        return batches.size();
    }

    /** Ends the stream; idempotent, never blocks. Senders should flush before. */
    @Override
    public void close() {
        batches.close();
    }

    /**
     * The producing end of a {@link BatchingChannel} for one thread: not thread-safe.
     *
     * @param <T> the type of the items
     */
    public static final class Sender<T> implements AutoCloseable {
        // Padding: the JVM lays out longs first, so these 128 bytes keep this sender's hot fields off the cache
        // line of whatever object was allocated before it (often the receiver, written per item by another core).
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
        private final BatchingChannel<T> channel;
        private Object[] batch;
        private int size;

        private Sender(BatchingChannel<T> channel) {
            this.channel = channel;
            this.batch = new Object[channel.batchSize];
        }

        /**
         * Adds {@code item} to this sender's batch, first handing the batch over (waiting while the channel is full)
         * if it is full.
         *
         * @throws dev.conclab.toolkit.channel.ChannelClosedException if the channel is closed
         * @throws InterruptedException if interrupted while waiting; the item was not added
         * @throws NullPointerException if {@code item} is null
         */
        public void send(T item) throws InterruptedException {
            Objects.requireNonNull(item, "item");
            if (size == batch.length) {
                channel.batches.send(batch);
                newBatch();
            }
            batch[size++] = item;
        }

        /**
         * Like {@link #send(Object)}, waiting at most {@code timeout} for room.
         *
         * @return whether the item was added
         */
        public boolean send(T item, long timeout, TimeUnit unit) throws InterruptedException {
            Objects.requireNonNull(item, "item");
            if (size == batch.length) {
                if (!channel.batches.send(batch, timeout, unit)) {
                    return false;
                }
                newBatch();
            }
            batch[size++] = item;
            return true;
        }

        /** Hands the partial batch over now, waiting while the channel is full; no-op if it is empty. */
        public void flush() throws InterruptedException {
            if (size > 0) {
                channel.batches.send(size == batch.length ? batch : Arrays.copyOf(batch, size));
                newBatch();
            }
        }

        /** Items in this sender's batch, not yet handed over. */
        public int pending() {
            return size;
        }

        private void newBatch() {
            batch = new Object[batch.length]; // the old one now belongs to a receiver
            size = 0;
        }

        /** Flushes. */
        @Override
        public void close() throws InterruptedException {
            flush();
        }
    }

    /**
     * The consuming end of a {@link BatchingChannel} for one thread: not thread-safe.
     *
     * @param <T> the type of the items
     */
    public static final class Receiver<T> {
        @SuppressWarnings("unused") // padding, as in Sender
        private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
        private final BatchingChannel<T> channel;
        private Object[] batch = new Object[0];
        private int next;

        private Receiver(BatchingChannel<T> channel) {
            this.channel = channel;
        }

        /**
         * The next item, waiting while none is available; {@code null} at the end of the stream.
         *
         * @throws InterruptedException if interrupted while waiting
         */
        public T receive() throws InterruptedException {
            if (next == batch.length) {
                Optional<Object[]> b = channel.batches.receive();
                if (b.isEmpty()) {
                    return null;
                }
                batch = b.get();
                next = 0;
            }
            return take();
        }

        /**
         * The next item, waiting at most {@code timeout}; {@code null} at the end of the stream.
         *
         * @throws TimeoutException if no item came in time
         */
        public T receive(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
            if (next == batch.length) {
                Optional<Object[]> b = channel.batches.receive(timeout, unit);
                if (b.isEmpty()) {
                    return null;
                }
                batch = b.get();
                next = 0;
            }
            return take();
        }

        /** Items already taken from the channel and not yet returned by this receiver. */
        public int buffered() {
            return batch.length - next;
        }

        @SuppressWarnings("unchecked")
        private T take() {
            return (T) batch[next++]; // no nulling: the whole batch is dropped once read, which saves a store per item
        }
    }
}
