package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.ChannelClosedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A bounded, blocking, closeable channel that hands items over in batches: each producing thread fills a private
 * batch through its own {@link Sender} and moves it into the channel under one lock acquisition, and each
 * consuming thread takes a chunk of items through its own {@link Receiver} under one lock acquisition and then
 * reads it without synchronization. One lock acquisition per batch instead of one per item is what makes the
 * hand-off several times faster than an {@link java.util.concurrent.ArrayBlockingQueue}. Nothing spins: a thread
 * that must wait parks on a lock condition.
 *
 * <p><b>Bound and blocking.</b> At most {@link #capacity()} items wait in the channel; each sender holds at most
 * {@link #batchSize()} more in its partial batch and each receiver at most {@code batchSize} in the chunk it is
 * reading: at most {@code capacity + (senders + receivers) × batchSize} items in all. A sender whose batch is full
 * moves what fits and waits until the channel has taken the rest; it is woken once there is room for a whole
 * batch (or the channel is empty), not for each free slot. A receiver finding nothing waits until a sender hands
 * items over or the channel closes.
 *
 * <p><b>When a partial batch leaves.</b> An item leaves its sender's batch when the batch is full, when
 * {@link Sender#flush()} is called, or as soon as a receiver is waiting: a receiver about to wait first takes the
 * items already in every sender's partial batch itself, and a send that finds a receiver waiting hands its batch
 * over at once and wakes that receiver (the sends that follow, while it wakes up, fill a batch again). So <em>no
 * receiver ever waits while an item sits in a partial batch</em>, whatever the sending thread is doing (computing,
 * or blocked on something else): latency stays low without a timer, and batches form by themselves while the
 * receivers are busy. The price is one memory fence per send (measured: about 8 ns, half the cost of a send in
 * {@code ChannelHandoffBenchmark}; a sender without it could strand its last item if it then blocked elsewhere).
 * A batch some of whose items a receiver took is handed over smaller (its slots are not reused until it is handed
 * over).
 *
 * <p><b>Order.</b> Items of one sender are received in the order they were sent when there is one receiver, which
 * takes up to {@code batchSize} items at a time. With several receivers, each item goes to one of them and a
 * receiver takes one item at a time: a receiver stuck on an item holds no other, and items spread over the
 * receivers as they free up (batching then saves lock acquisitions on the sending side only).
 *
 * <p><b>Closing.</b> {@link #close()} ends the stream: receivers still get every item handed over before the close
 * (including items in partial batches, which they take themselves), then {@link Receiver#receive()} returns
 * {@code null}; a sender handing a batch over afterwards gets a {@link ChannelClosedException}. Producers should
 * flush before closing.
 *
 * <p><b>Thread safety.</b> The channel is safe for any number of threads; a {@code Sender} or {@code Receiver} is
 * confined to one thread at a time (or to threads that take turns under a common lock). Actions in a thread before
 * sending an item happen-before actions after the receipt of that item in another thread. The depth queries
 * ({@link #size()}, {@link #waiting()}) are snapshots that may be stale by the time they return.
 *
 * <p><b>Interruption.</b> Waiting calls throw {@link InterruptedException}; an interrupted send keeps its item in
 * the partial batch, where a receiver or the next send or flush still finds it.
 *
 * @param <T> the type of the items
 */
public final class BatchingChannel<T> implements AutoCloseable {

    /** Default items per batch for the pipeline engine's hand-offs (chosen by measurement, see package docs). */
    static final int DEFAULT_BATCH = 128;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<Receiver<T>> parked = new ArrayDeque<>(); // guarded by lock: waiting, not yet woken
    private final Object[] ring; // guarded by lock: `count` items from `head`
    private final int batchSize;
    private final List<Sender<T>> senders = new ArrayList<>(); // guarded by lock
    private final List<Receiver<T>> receivers = new ArrayList<>(); // guarded by lock
    private int head; // guarded by lock
    private int count; // guarded by lock
    private boolean closed; // guarded by lock
    // receivers waiting and not yet woken, written under lock; read by senders after their fence. A sender that
    // wakes a receiver takes it off at once, so the sends that follow, while the receiver is still waking up,
    // fill a batch instead of each handing one item over.
    private volatile int waitingReceivers;

    /**
     * A channel holding at most {@code capacity} items, handed over in batches of up to {@code batchSize}.
     *
     * @throws IllegalArgumentException if either is less than 1
     */
    public BatchingChannel(int capacity, int batchSize) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        this.ring = new Object[capacity];
        this.batchSize = batchSize;
    }

    /** A new sender, for one producing thread. */
    public Sender<T> newSender() {
        Sender<T> s = new Sender<>(this);
        return underLock(() -> {
            senders.add(s);
            return s;
        });
    }

    /** A new receiver, for one consuming thread. */
    public Receiver<T> newReceiver() {
        Receiver<T> r = new Receiver<>(this);
        return underLock(() -> {
            receivers.add(r);
            return r;
        });
    }

    private <R> R underLock(Supplier<R> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /** The most items in one batch. */
    public int batchSize() {
        return batchSize;
    }

    /** The most items waiting in the channel itself (not counting partial batches and receivers' chunks). */
    public int capacity() {
        return ring.length;
    }

    /** Items in the channel itself now (a snapshot). */
    public int size() {
        return underLock(() -> count);
    }

    /**
     * Items sent and not yet returned by a receiver, counted one by one (a snapshot): those in the channel, in the
     * senders' partial batches and in the receivers' chunks.
     */
    public int waiting() {
        return underLock(() -> {
            int n = count + pendingInSenders();
            for (Receiver<T> r : receivers) {
                n += r.end - (int) Receiver.NEXT.getOpaque(r);
            }
            return n;
        });
    }

    /**
     * Whether some receiver is parked waiting for an item and no sender has woken it yet: for monitoring, and for
     * tests that must know a receiver is blocked before they act.
     */
    public boolean hasWaitingReceivers() {
        return waitingReceivers > 0;
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return underLock(() -> closed);
    }

    /** Ends the stream and wakes every waiting thread; idempotent, never blocks for long. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            while (!parked.isEmpty()) {
                wake(parked.poll());
            }
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- hand-over, under the lock ----

    /** Moves the sender's pending items into the ring, waiting for room if {@code nanos} allows. */
    private boolean put(Sender<T> s, boolean timed, long nanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (true) {
                if (closed) {
                    throw new ChannelClosedException("cannot send: the channel is closed");
                }
                int n = Math.min(s.size - s.taken, ring.length - count);
                if (n > 0) {
                    int tail = (head + count) % ring.length;
                    int first = Math.min(n, ring.length - tail); // the ring may wrap
                    System.arraycopy(s.batch, s.taken, ring, tail, first);
                    System.arraycopy(s.batch, s.taken + first, ring, 0, n - first);
                    s.taken += n;
                    count += n;
                    if (!parked.isEmpty()) {
                        wake(parked.poll());
                    }
                }
                if (s.taken == s.size) {
                    break;
                }
                if (timed && nanos <= 0) {
                    return false;
                }
                nanos = await(notFull, timed, nanos, s.clock);
            }
            // The batch array is reused without clearing (the next items overwrite its slots): it may keep up to
            // batchSize items reachable a while longer, within the bound.
            s.taken = 0;
            Sender.PUBLISHED.setRelease(s, 0);
        } finally {
            lock.unlock();
        }
        s.size = 0;
        return true;
    }

    /** Waits on {@code c} (for at most {@code nanos} if timed), leaving the wait out of {@code clock}'s busy time. */
    private static long await(Condition c, boolean timed, long nanos, WaitClock clock) throws InterruptedException {
        if (clock != null) {
            clock.pause();
        }
        try {
            if (timed) {
                return c.awaitNanos(nanos);
            }
            c.await();
            return 0;
        } finally {
            if (clock != null) {
                clock.resume();
            }
        }
    }

    /**
     * Fills the receiver's chunk: from the ring, else from the senders' partial batches, else waits.
     *
     * @return false at the end of the stream
     */
    private boolean fill(Receiver<T> r, boolean timed, long nanos) throws InterruptedException, TimeoutException {
        lock.lockInterruptibly();
        try {
            while (true) {
                if (count > 0) {
                    int n = Math.min(share(count), r.chunk.length);
                    int first = Math.min(n, ring.length - head);
                    System.arraycopy(ring, head, r.chunk, 0, first);
                    System.arraycopy(ring, 0, r.chunk, first, n - first);
                    // The slots are not cleared: the next items overwrite them, and the channel holds on to at most
                    // `capacity` references that way, which the bound already allows for. Clearing cost a store per item.
                    head = (head + n) % ring.length;
                    count -= n;
                    r.setChunk(n);
                    if (ring.length - count >= Math.min(batchSize, ring.length) || count == 0 || closed) {
                        notFull.signalAll(); // room for a whole batch: waking a sender for less costs a park each
                    }
                    if (count > 0 && !parked.isEmpty()) {
                        wake(parked.poll());
                    }
                    return true;
                }
                if (steal(r)) {
                    return true;
                }
                if (closed) {
                    return false;
                }
                if (timed && nanos <= 0) {
                    throw new TimeoutException("no item within the timeout");
                }
                // Dekker with Sender.send: this volatile write, then reading the senders' counts; a sender writes
                // its count, fences, then reads waitingReceivers. One of the two sees the other.
                parked.add(r);
                r.parked = true;
                waitingReceivers = parked.size();
                try {
                    if (steal(r)) {
                        return true;
                    }
                    nanos = await(r.wakeUp, timed, nanos, r.clock);
                } finally {
                    if (r.parked) { // not woken by a sender or close (timeout, interrupt, spurious, stole)
                        parked.remove(r);
                        r.parked = false;
                        waitingReceivers = parked.size();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Wakes a parked receiver and takes it off the waiting list. Caller holds the lock. */
    private void wake(Receiver<T> r) {
        r.parked = false;
        waitingReceivers = parked.size();
        r.wakeUp.signal();
    }

    /**
     * How many of {@code available} items one receiver takes: all of them (up to its chunk) when it is the only
     * one; one at a time when there are several, so that a receiver stuck on one item holds back no other.
     * Caller holds the lock.
     */
    private int share(int available) {
        return receivers.size() <= 1 ? available : Math.min(1, available);
    }

    private int pendingInSenders() { // caller holds the lock
        int n = 0;
        for (Sender<T> s : senders) {
            n += (int) Sender.PUBLISHED.getAcquire(s) - s.taken;
        }
        return n;
    }

    /** Takes the items published in the senders' partial batches into the receiver's chunk. */
    private boolean steal(Receiver<T> r) {
        int limit = Math.min(share(r.chunk.length), r.chunk.length);
        int n = 0;
        for (Sender<T> s : senders) {
            int published = (int) Sender.PUBLISHED.getAcquire(s);
            int k = Math.min(published - s.taken, limit - n);
            if (k > 0) {
                System.arraycopy(s.batch, s.taken, r.chunk, n, k);
                s.taken += k; // the slots stay in the sender's array until its next hand-over clears them
                n += k;
            }
        }
        if (n == 0) {
            return false;
        }
        r.setChunk(n);
        return true;
    }

    /** Receives the time a sender or receiver spends waiting, so a stage's busy time can leave it out. */
    interface WaitClock {
        void pause();

        void resume();
    }

    /** What a receiver's owner does when the channel is empty, before it waits: typically flush its own output. */
    @FunctionalInterface
    interface BeforeWait {
        void run() throws InterruptedException;
    }

    /**
     * The producing end of a {@link BatchingChannel} for one thread: not thread-safe.
     *
     * @param <T> the type of the items
     */
    public static final class Sender<T> implements AutoCloseable {
        static final VarHandle PUBLISHED;

        static {
            try {
                PUBLISHED = MethodHandles.lookup().findVarHandle(Sender.class, "published", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        // Padding: the JVM lays out longs first, so these 128 bytes keep this sender's hot fields off the cache
        // line of whatever object was allocated before it (often a receiver, written per item by another core).
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
        private final BatchingChannel<T> channel;
        private final Object[] batch;
        private int size; // owner only: slots written
        @SuppressWarnings("unused") // through PUBLISHED: slots a receiver may take; written by the owner
        private int published;
        private int taken; // guarded by channel.lock: slots already moved out (to the ring or a receiver)
        private WaitClock clock;

        private Sender(BatchingChannel<T> channel) {
            this.channel = channel;
            this.batch = new Object[channel.batchSize];
        }

        /**
         * Adds {@code item} to this sender's batch; hands the batch over if it is now full (waiting while the
         * channel has no room) or if a receiver is waiting.
         *
         * @throws ChannelClosedException if the channel is closed when the batch is handed over
         * @throws InterruptedException if interrupted while waiting; the item was added and is still pending
         * @throws NullPointerException if {@code item} is null
         */
        public void send(T item) throws InterruptedException {
            Objects.requireNonNull(item, "item");
            if (size == batch.length) { // a previous hand-over was interrupted: finish it first
                channel.put(this, false, 0);
            }
            batch[size++] = item;
            publish();
            if (size == batch.length || channel.waitingReceivers > 0) {
                channel.put(this, false, 0);
            }
        }

        /**
         * Like {@link #send(Object)}, waiting at most {@code timeout} for room when the batch is full.
         *
         * @return whether the item was added (it is not when the batch was full and the channel had no room in
         *         time)
         */
        public boolean send(T item, long timeout, TimeUnit unit) throws InterruptedException {
            Objects.requireNonNull(item, "item");
            if (size == batch.length && !channel.put(this, true, unit.toNanos(timeout))) {
                return false;
            }
            batch[size++] = item;
            publish();
            if (channel.waitingReceivers > 0) {
                channel.put(this, true, 0);
            }
            return true;
        }

        private void publish() {
            PUBLISHED.setVolatile(this, size); // the fence of the Dekker pairing in fill()
        }

        /**
         * Hands the partial batch over now, waiting while the channel has no room; returns at once if it is
         * empty.
         *
         * @throws ChannelClosedException if the channel is closed and items were pending
         */
        public void flush() throws InterruptedException {
            if (size > 0) {
                channel.put(this, false, 0);
            }
        }

        /** Items added to this sender's batch and not yet handed over (nor taken by a receiver): a snapshot. */
        public int pending() {
            return channel.underLock(() -> size - taken);
        }

        void clock(WaitClock c) {
            this.clock = c;
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
        static final VarHandle NEXT;

        static {
            try {
                NEXT = MethodHandles.lookup().findVarHandle(Receiver.class, "next", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        @SuppressWarnings("unused") // padding, as in Sender
        private long p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;
        private final BatchingChannel<T> channel;
        private final Object[] chunk;
        private int next; // owner writes (opaque, for waiting()); items [next, end) are still to return
        private int end; // written under channel.lock
        private WaitClock clock;
        private final Condition wakeUp; // of channel.lock
        private boolean parked; // guarded by channel.lock: in channel.parked

        private Receiver(BatchingChannel<T> channel) {
            this.channel = channel;
            this.chunk = new Object[channel.batchSize];
            this.wakeUp = channel.lock.newCondition();
        }

        /**
         * The next item, waiting while none is available; {@code null} at the end of the stream.
         *
         * @throws InterruptedException if interrupted while waiting
         */
        public T receive() throws InterruptedException {
            return receive((BeforeWait) null);
        }

        /** {@link #receive()}, running {@code beforeWait} first if this receiver would have to wait. */
        T receive(BeforeWait beforeWait) throws InterruptedException {
            if (Thread.currentThread().isInterrupted()) { // cancelled: stop within the chunk, not after it
                throw new InterruptedException();
            }
            if (next == end) {
                try {
                    if (!refill(beforeWait, false, 0)) {
                        return null;
                    }
                } catch (TimeoutException e) {
                    throw new AssertionError(e); // untimed
                }
            }
            return take();
        }

        /**
         * The next item, waiting at most {@code timeout}; {@code null} at the end of the stream.
         *
         * @throws TimeoutException if no item came in time
         */
        public T receive(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
            return receive(timeout, unit, null);
        }

        T receive(long timeout, TimeUnit unit, BeforeWait beforeWait) throws InterruptedException, TimeoutException {
            if (next == end && !refill(beforeWait, true, unit.toNanos(timeout))) {
                return null;
            }
            return take();
        }

        private boolean refill(BeforeWait beforeWait, boolean timed, long nanos)
                throws InterruptedException, TimeoutException {
            if (beforeWait != null && channel.isEmptyNow()) {
                beforeWait.run();
            }
            return channel.fill(this, timed, nanos);
        }

        /** Items already taken from the channel and not yet returned by this receiver. */
        public int buffered() {
            return end - next;
        }

        void clock(WaitClock c) {
            this.clock = c;
        }

        private void setChunk(int n) { // under channel.lock
            if (n < end) {
                Arrays.fill(chunk, n, end, null); // items already returned: let them be collected
            }
            end = n;
            NEXT.setOpaque(this, 0);
        }

        @SuppressWarnings("unchecked")
        private T take() {
            T item = (T) chunk[next]; // not cleared: overwritten or cleared by the next refill
            NEXT.setOpaque(this, next + 1);
            return item;
        }
    }

    private boolean isEmptyNow() {
        lock.lock();
        try {
            return count == 0;
        } finally {
            lock.unlock();
        }
    }
}
