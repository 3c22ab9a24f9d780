package dev.conclab.toolkit.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A single-threaded event loop in the shape of asyncio's {@code SelectorEventLoop}: a FIFO ready queue of callbacks,
 * a heap of timers, and a {@link Selector} for socket readiness, all served by whichever one thread runs the loop.
 * It is a small, faithful model for lessons; production systems on the JVM use Netty's event loops, which have the
 * same anatomy.
 *
 * <h2>One iteration</h2>
 * Like asyncio's {@code _run_once}: (1) callbacks posted by other threads ({@link #callSoonThreadsafe}) join the ready
 * queue; (2) the selector is polled, with a timeout of zero if callbacks are ready, else until the earliest timer's
 * deadline, else with no timeout; (3) the readiness callbacks of the channels it reports join the ready queue;
 * (4) every timer whose deadline has passed joins it, in deadline order; (5) the callbacks that are in the ready
 * queue <em>now</em> run, one after another, each to its end. Callbacks they schedule run in the next iteration.
 *
 * <h2>Ordering</h2>
 * Callbacks scheduled with {@link #callSoon} run in the order they were scheduled (FIFO). Timers run in deadline
 * order, and timers with equal deadlines in the order they were scheduled; a timer never runs before its deadline,
 * and runs late by however long the callbacks before it take. Callbacks posted by one thread with
 * {@link #callSoonThreadsafe} run in that thread's order; posts of different threads are interleaved in some order.
 *
 * <h2>Thread confinement</h2>
 * While the loop runs ({@link #runForever}, {@link #runUntilComplete}), it belongs to its thread: every method except
 * {@link #callSoonThreadsafe}, {@link #time()}, {@link #isRunning()}, {@link #isClosed()} and {@link #name()} throws
 * {@link IllegalStateException} when called from another thread, which asyncio does only in debug mode
 * ("Non-thread-safe operation invoked on an event loop other than the current one"). While it does not run, it may be
 * used by one thread at a time; handing it to another thread needs a happens-before edge (such as
 * {@link Thread#start()}). The same rules hold for its {@link LoopFuture}s and {@link Task}s. A callback that blocks
 * blocks the whole loop: nothing else runs, no timer fires, no socket is read, until it returns.
 *
 * <h2>Memory effects</h2>
 * Actions of a thread before it calls {@link #callSoonThreadsafe} happen-before the posted callback runs on the
 * loop thread (the post goes through a {@link ConcurrentLinkedQueue}). Every callback and every task step runs on the
 * loop thread, so state touched only by callbacks of one loop needs no lock.
 *
 * <h2>Errors, debug mode and the watchdog</h2>
 * An exception thrown by a callback goes to the exception handler (by default logged through {@link System.Logger}
 * at ERROR) and the loop goes on. In debug mode, a callback that runs for at least the slow-callback duration
 * (default 100 ms, asyncio's {@code slow_callback_duration} of 0.1 s) is reported to the slow-callback listener (by
 * default logged at WARNING as "Executing &lt;name&gt; took 0.123 seconds"). The stall watchdog, if enabled, is a
 * daemon thread that notices the loop thread stuck in one callback for longer than its threshold and reports the
 * thread's stack (once per stall); it starts when the loop first runs and stops when it is closed.
 *
 * <h2>End of life</h2>
 * {@link #stop()} makes {@code runForever} return after the current iteration. {@link #close()} (only while the
 * loop does not run) drops pending callbacks and timers, closes the selector (the registered channels stay open:
 * they belong to the caller), stops the watchdog thread, and makes every later scheduling call throw
 * {@link IllegalStateException}. The loop starts no thread of its own except the optional watchdog.
 */
public final class SelectorEventLoop implements AutoCloseable {

    /** asyncio's default {@code loop.slow_callback_duration}: 0.1 s. */
    public static final Duration DEFAULT_SLOW_CALLBACK_DURATION = Duration.ofMillis(100);

    private static final System.Logger LOG = System.getLogger(SelectorEventLoop.class.getName());
    private static final ThreadLocal<SelectorEventLoop> RUNNING = new ThreadLocal<>();
    private static final AtomicLong LOOP_IDS = new AtomicLong();

    private final String name;
    private final Selector selector;
    private final Queue<Handle> ready = new ArrayDeque<>();
    private final PriorityQueue<Handle> timers = new PriorityQueue<>(
            Comparator.comparingLong(Handle::deadline).thenComparingLong(Handle::sequence));
    private final ConcurrentLinkedQueue<Handle> posted = new ConcurrentLinkedQueue<>();
    private final AtomicLong sequence = new AtomicLong();
    private final boolean debug;
    private final long slowCallbackNanos;
    private final Consumer<? super SlowCallback> slowCallbackListener;
    private final Consumer<? super CallbackError> exceptionHandler;
    private final Duration stallThreshold;
    private final Consumer<? super LoopStall> stallListener;

    private volatile Thread owner;
    private volatile boolean closed;
    private volatile Running current;
    private boolean stopping;
    private Task<?> currentTask;
    private Thread watchdog;

    /** The callback the loop thread is in, and since when; read by the watchdog. */
    private record Running(Handle handle, long since) {
    }

    private SelectorEventLoop(Builder b) {
        this.name = b.name != null ? b.name : "event-loop-" + LOOP_IDS.incrementAndGet();
        this.debug = b.debug;
        this.slowCallbackNanos = b.slowCallbackDuration.toNanos();
        this.slowCallbackListener = b.slowCallbackListener != null ? b.slowCallbackListener
                : slow -> LOG.log(System.Logger.Level.WARNING, slow.message());
        this.exceptionHandler = b.exceptionHandler != null ? b.exceptionHandler
                : error -> LOG.log(System.Logger.Level.ERROR, error.message() + " (loop " + error.loopName() + ")",
                        error.exception());
        this.stallThreshold = b.stallThreshold;
        this.stallListener = b.stallListener != null ? b.stallListener
                : stall -> LOG.log(System.Logger.Level.WARNING, stall.message());
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for event loop " + name, e);
        }
    }

    /** A loop with the defaults: not in debug mode, no watchdog, errors logged. */
    public static SelectorEventLoop create() {
        return builder().build();
    }

    /** A builder for a loop with a name, debug mode, handlers or a watchdog. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The loop running on the calling thread: asyncio's {@code get_running_loop()}.
     *
     * @throws IllegalStateException if no loop runs on this thread ("no running event loop", as asyncio says)
     */
    public static SelectorEventLoop running() {
        SelectorEventLoop loop = RUNNING.get();
        if (loop == null) {
            throw new IllegalStateException("no running event loop on thread " + Thread.currentThread().getName());
        }
        return loop;
    }

    /** The loop's name. Any thread. */
    public String name() {
        return name;
    }

    /** Whether debug mode (slow-callback reports) is on. Any thread. */
    public boolean isDebug() {
        return debug;
    }

    /** The slow-callback duration used in debug mode. Any thread. */
    public Duration slowCallbackDuration() {
        return Duration.ofNanos(slowCallbackNanos);
    }

    /** The loop's clock, in nanoseconds ({@link System#nanoTime()}): asyncio's {@code loop.time()}. Any thread. */
    public long time() {
        return System.nanoTime();
    }

    /** Whether {@code runForever} or {@code runUntilComplete} is running. Any thread. */
    public boolean isRunning() {
        return owner != null;
    }

    /** Whether {@link #close()} has been called. Any thread. */
    public boolean isClosed() {
        return closed;
    }

    /** Whether the calling thread is the thread running this loop. Any thread. */
    public boolean inLoopThread() {
        return owner == Thread.currentThread();
    }

    /** The task whose step is running now, or {@code null} outside a task: asyncio's {@code current_task()}. */
    public Task<?> currentTask() {
        checkThread("currentTask");
        return currentTask;
    }

    // ---- scheduling -------------------------------------------------------------------------------------------

    /** Schedules {@code callback} to run in the next iteration, after the callbacks scheduled before it. */
    public Handle callSoon(Runnable callback) {
        return soon(null, callback);
    }

    /** {@link #callSoon(Runnable)}, with a name for reports. */
    public Handle callSoon(String name, Runnable callback) {
        return soon(Objects.requireNonNull(name, "name"), callback);
    }

    /** {@code name} null: the handle is named after the callback when a report needs a name, not before. */
    private Handle soon(String name, Runnable callback) {
        checkOpen("callSoon", name, callback);
        Handle handle = new Handle(name, callback, Handle.NO_DEADLINE, sequence.getAndIncrement());
        ready.add(handle);
        return handle;
    }

    /** Schedules {@code callback} to run once {@code delay} has passed (zero or negative: in the next iteration). */
    public Handle callLater(Duration delay, Runnable callback) {
        Objects.requireNonNull(delay, "delay");
        return at(time() + saturatedNanos(delay), null, callback);
    }

    /** {@link #callLater(Duration, Runnable)}, with a name for reports. */
    public Handle callLater(Duration delay, String name, Runnable callback) {
        Objects.requireNonNull(delay, "delay");
        return callAt(time() + saturatedNanos(delay), name, callback);
    }

    /** Schedules {@code callback} to run once the loop's clock ({@link #time()}) reaches {@code deadline}. */
    public Handle callAt(long deadline, Runnable callback) {
        return at(deadline, null, callback);
    }

    /** {@link #callAt(long, Runnable)}, with a name for reports. */
    public Handle callAt(long deadline, String name, Runnable callback) {
        return at(deadline, Objects.requireNonNull(name, "name"), callback);
    }

    private Handle at(long deadline, String name, Runnable callback) {
        checkOpen("callAt", name, callback);
        Handle handle = new Handle(name, callback, deadline, sequence.getAndIncrement());
        timers.add(handle);
        return handle;
    }

    /**
     * Schedules {@code callback} from any thread, and wakes the loop if it waits in its selector. The only method
     * that is safe to call from another thread while the loop runs. Actions before this call happen-before the
     * callback runs; callbacks posted by one thread run in that thread's order.
     *
     * @throws IllegalStateException if the loop is closed (a post racing with {@code close()} may be dropped)
     */
    public Handle callSoonThreadsafe(Runnable callback) {
        return posted(null, callback);
    }

    /** {@link #callSoonThreadsafe(Runnable)}, with a name for reports. */
    public Handle callSoonThreadsafe(String name, Runnable callback) {
        return posted(Objects.requireNonNull(name, "name"), callback);
    }

    private Handle posted(String name, Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (closed) {
            throw new IllegalStateException("callSoonThreadsafe(" + (name != null ? name : callback)
                    + "): event loop " + this.name + " is closed");
        }
        Handle handle = new Handle(name, callback, Handle.NO_DEADLINE, sequence.getAndIncrement());
        posted.add(handle);
        selector.wakeup();
        return handle;
    }

    // ---- futures and tasks ------------------------------------------------------------------------------------

    /** A new pending future of this loop: asyncio's {@code loop.create_future()}. */
    public <T> LoopFuture<T> createFuture() {
        return createFuture("future-" + sequence.getAndIncrement());
    }

    /** {@link #createFuture()}, with a name. */
    public <T> LoopFuture<T> createFuture(String name) {
        Objects.requireNonNull(name, "name");
        checkOpen("createFuture", name, this);
        return new LoopFuture<>(this, name);
    }

    /**
     * Wraps {@code coroutine} in a task and schedules its first step with {@code callSoon}: asyncio's
     * {@code loop.create_task()}. The coroutine does not run during this call.
     */
    public <T> Task<T> createTask(Coroutine<T> coroutine) {
        return createTask("task-" + sequence.getAndIncrement(), coroutine);
    }

    /** {@link #createTask(Coroutine)}, with a name. */
    public <T> Task<T> createTask(String name, Coroutine<T> coroutine) {
        checkOpen("createTask", name, coroutine);
        return new Task<>(this, name, coroutine);
    }

    /**
     * A future that completes with {@code null} after {@code delay}: what a coroutine awaits for
     * {@code asyncio.sleep(delay)}. Cancelling the future cancels its timer.
     */
    public LoopFuture<Void> sleep(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        LoopFuture<Void> future = createFuture("sleep(" + delay.toMillis() + " ms)");
        Handle timer = callLater(delay, future.name(), () -> {
            if (future.pending()) {
                future.setResult(null);
            }
        });
        future.addDoneCallback(f -> timer.cancel());
        return future;
    }

    /**
     * Runs {@code work} on {@code executor} and returns a future of this loop that completes, on the loop thread,
     * with its result or exception: asyncio's {@code loop.run_in_executor()}. Cancelling the future does not stop
     * the work; its result is then dropped. If the executor refuses the work, the future fails with the
     * {@link RejectedExecutionException}.
     */
    public <T> LoopFuture<T> runInExecutor(Executor executor, Callable<T> work) {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(work, "work");
        LoopFuture<T> future = createFuture("runInExecutor(" + nameOf(work) + ")");
        try {
            executor.execute(() -> {
                Outcome<T> outcome;
                try {
                    outcome = new Outcome.Success<>(work.call());
                } catch (Throwable e) {
                    outcome = new Outcome.Failure<>(e);
                }
                Outcome<T> result = outcome;
                try {
                    callSoonThreadsafe(future.name() + " completes", () -> complete(future, result));
                } catch (IllegalStateException closedMeanwhile) {
                    // the loop was closed while the work ran: nobody is left to see the result
                }
            });
        } catch (RejectedExecutionException e) {
            future.fail(e);
        }
        return future;
    }

    private static <T> void complete(LoopFuture<T> future, Outcome<T> outcome) {
        if (!future.pending()) {
            return; // cancelled while the work ran
        }
        switch (outcome) {
            case Outcome.Success<T>(T value) -> future.succeed(value);
            case Outcome.Failure<T>(Throwable error) -> future.fail(error);
        }
    }

    // ---- I/O readiness ----------------------------------------------------------------------------------------

    /** The reader and writer callbacks of one registered channel. */
    private static final class Interest {
        Handle reader;
        Handle writer;
    }

    /**
     * Calls {@code callback} (through the ready queue) in every iteration in which {@code channel} is ready to read
     * or to accept, until {@link #removeReader}: asyncio's {@code add_reader}. The channel is put in non-blocking
     * mode. Replaces an earlier reader of the same channel.
     */
    public Handle addReader(SelectableChannel channel, Runnable callback) {
        return addInterest(channel, true, callback);
    }

    /** Calls {@code callback} whenever {@code channel} is ready to write or has connected: {@code add_writer}. */
    public Handle addWriter(SelectableChannel channel, Runnable callback) {
        return addInterest(channel, false, callback);
    }

    /** Stops watching {@code channel} for reading. Returns whether a reader was registered. */
    public boolean removeReader(SelectableChannel channel) {
        return removeInterest(channel, true);
    }

    /** Stops watching {@code channel} for writing. Returns whether a writer was registered. */
    public boolean removeWriter(SelectableChannel channel) {
        return removeInterest(channel, false);
    }

    private Handle addInterest(SelectableChannel channel, boolean read, Runnable callback) {
        Objects.requireNonNull(channel, "channel");
        String what = (read ? "reader of " : "writer of ") + channel;
        checkOpen(read ? "addReader" : "addWriter", what, callback);
        Handle handle = new Handle(what, callback, Handle.NO_DEADLINE, sequence.getAndIncrement());
        try {
            SelectionKey key = channel.keyFor(selector);
            if (key != null && !key.isValid()) {
                selector.selectNow(); // flushes the cancelled key (keeping any readiness in the selected-key set)
                key = null;
            }
            if (key == null) {
                channel.configureBlocking(false);
                key = channel.register(selector, 0, new Interest());
            }
            Interest interest = (Interest) key.attachment();
            Handle replaced = read ? interest.reader : interest.writer;
            if (replaced != null) {
                replaced.cancel();
            }
            if (read) {
                interest.reader = handle;
            } else {
                interest.writer = handle;
            }
            key.interestOps(opsOf(channel, interest));
        } catch (ClosedChannelException e) {
            throw new IllegalArgumentException("channel " + channel + " is closed", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot register " + channel + " with event loop " + name, e);
        }
        return handle;
    }

    private boolean removeInterest(SelectableChannel channel, boolean read) {
        Objects.requireNonNull(channel, "channel");
        checkThread(read ? "removeReader" : "removeWriter");
        SelectionKey key = closed ? null : channel.keyFor(selector);
        if (key == null || !key.isValid()) {
            return false;
        }
        Interest interest = (Interest) key.attachment();
        Handle removed = read ? interest.reader : interest.writer;
        if (removed != null) {
            removed.cancel(); // it may already sit in this iteration's ready queue, as in asyncio's remove_reader
        }
        if (read) {
            interest.reader = null;
        } else {
            interest.writer = null;
        }
        // The key stays registered with no interest, rather than cancelled: a cancelled key lingers until the next
        // select, and a reader added back in the same iteration could not re-register the channel meanwhile.
        key.interestOps(opsOf(channel, interest));
        return removed != null;
    }

    private static int opsOf(SelectableChannel channel, Interest interest) {
        int valid = channel.validOps();
        int ops = 0;
        if (interest.reader != null) {
            ops |= valid & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
        }
        if (interest.writer != null) {
            ops |= valid & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);
        }
        return ops;
    }

    // ---- running ----------------------------------------------------------------------------------------------

    /**
     * Runs the loop until {@code future} is done and returns its value: asyncio's {@code run_until_complete}.
     * Blocks the calling thread, which becomes the loop thread meanwhile.
     *
     * @throws CancellationException if the future was cancelled
     * @throws RuntimeException the future's exception (as is if unchecked, else in a {@link CompletionException})
     * @throws IllegalStateException if the loop is closed or already running, if the future belongs to another
     *                               loop, or if the loop stopped ({@link #stop()}, or an interrupt of the calling
     *                               thread) before the future was done
     */
    public <T> T runUntilComplete(LoopFuture<T> future) {
        Objects.requireNonNull(future, "future");
        if (future.loop() != this) {
            throw new IllegalStateException("runUntilComplete: " + future + " belongs to loop " + future.loop().name()
                    + ", not to " + name);
        }
        checkOpen("runUntilComplete", future.name(), future);
        Consumer<LoopFuture<T>> stopWhenDone = f -> stop();
        future.addDoneCallback(stopWhenDone);
        try {
            runForever();
        } finally {
            future.removeDoneCallback(stopWhenDone);
        }
        if (!future.isDone()) {
            throw new IllegalStateException("event loop " + name + " stopped before " + future + " completed"
                    + (Thread.currentThread().isInterrupted() ? " (the loop thread was interrupted)" : ""));
        }
        return future.result();
    }

    /**
     * Runs iterations until {@link #stop()} is called: asyncio's {@code run_forever}. The calling thread becomes the
     * loop thread until it returns. An interrupt of the calling thread also makes it return, after the current
     * iteration, with the thread's interrupt status kept.
     *
     * @throws IllegalStateException if the loop is closed, or already running (on this or another thread), or if
     *                               another loop is running on this thread
     */
    public void runForever() {
        checkThread("runForever");
        if (closed) {
            throw new IllegalStateException("runForever: event loop " + name + " is closed");
        }
        if (owner != null) {
            throw new IllegalStateException("runForever: event loop " + name + " is already running");
        }
        if (RUNNING.get() != null) {
            throw new IllegalStateException("runForever: event loop " + RUNNING.get().name()
                    + " is already running on this thread");
        }
        owner = Thread.currentThread();
        RUNNING.set(this);
        startWatchdog();
        try {
            while (true) {
                runOnce();
                if (stopping || owner.isInterrupted()) {
                    break;
                }
            }
        } finally {
            stopping = false;
            RUNNING.remove();
            owner = null;
        }
    }

    /**
     * Makes {@code runForever} return once the current iteration's callbacks have run. If the loop is not running,
     * its next run does one iteration and returns. From another thread: {@code callSoonThreadsafe(loop::stop)}.
     */
    public void stop() {
        checkThread("stop");
        stopping = true;
    }

    private void runOnce() {
        moveAll(posted, ready);
        long timeoutNanos;
        if (!ready.isEmpty() || stopping) {
            timeoutNanos = 0;
        } else {
            dropCancelledTimers();
            timeoutNanos = timers.isEmpty() ? -1 : Math.max(0, timers.peek().deadline() - time());
        }
        select(timeoutNanos);
        moveAll(posted, ready);
        long now = time();
        while (!timers.isEmpty() && timers.peek().deadline() - now <= 0) {
            Handle timer = timers.poll();
            if (!timer.isCancelled()) {
                ready.add(timer);
            }
        }
        // Only what is ready now runs in this iteration; what these callbacks schedule waits for the next.
        for (int n = ready.size(); n > 0; n--) {
            Handle handle = ready.poll();
            if (!handle.isCancelled()) {
                run(handle);
            }
        }
    }

    private void select(long timeoutNanos) {
        try {
            if (timeoutNanos == 0) {
                selector.selectNow();
            } else if (timeoutNanos < 0) {
                selector.select();
            } else {
                // Round up: a timeout rounded down to 0 ms would mean "no timeout" to Selector.select(long).
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos + 999_999)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("select failed in event loop " + name, e);
        }
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            try {
                int ops = key.readyOps();
                Interest interest = (Interest) key.attachment();
                if (interest.reader != null && (ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
                    ready.add(interest.reader);
                }
                if (interest.writer != null && (ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
                    ready.add(interest.writer);
                }
            } catch (CancelledKeyException e) {
                // the channel was closed or unregistered meanwhile: nothing to call
            }
        }
    }

    private void run(Handle handle) {
        long start = System.nanoTime();
        if (watchdog != null) {
            current = new Running(handle, start);
        }
        try {
            handle.callback().run();
        } catch (Throwable e) {
            reportError(handle.name(), "Exception in callback " + handle.name(), e);
            if (e instanceof VirtualMachineError vmError) {
                throw vmError;
            }
        } finally {
            if (watchdog != null) {
                current = null;
            }
        }
        if (debug) {
            long took = System.nanoTime() - start;
            if (took >= slowCallbackNanos) {
                SlowCallback slow = new SlowCallback(name, handle.name(), Duration.ofNanos(took));
                try {
                    slowCallbackListener.accept(slow);
                } catch (RuntimeException e) {
                    reportError(handle.name(), "Exception in the slow-callback listener", e);
                }
            }
        }
    }

    private void reportError(String callbackName, String message, Throwable e) {
        CallbackError error = new CallbackError(name, callbackName, message, e);
        try {
            exceptionHandler.accept(error);
        } catch (RuntimeException handlerFailed) {
            // asyncio logs a failing handler and carries on; so do we
            LOG.log(System.Logger.Level.ERROR, "the exception handler of event loop " + name + " failed on "
                    + message, handlerFailed);
        }
    }

    private void dropCancelledTimers() {
        while (!timers.isEmpty() && timers.peek().isCancelled()) {
            timers.poll();
        }
    }

    private static void moveAll(Queue<Handle> from, Queue<Handle> to) {
        for (Handle h = from.poll(); h != null; h = from.poll()) {
            to.add(h);
        }
    }

    // ---- closing ----------------------------------------------------------------------------------------------

    /**
     * Closes the loop: drops pending callbacks and timers, closes the selector (not the registered channels), stops
     * the watchdog thread and waits for it to end. Idempotent.
     *
     * @throws IllegalStateException if the loop is running ("Cannot close a running event loop", as asyncio says)
     */
    @Override
    public void close() {
        checkThread("close");
        if (owner != null) {
            throw new IllegalStateException("cannot close event loop " + name + " while it is running");
        }
        if (closed) {
            return;
        }
        closed = true;
        ready.clear();
        timers.clear();
        posted.clear();
        try {
            selector.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the selector of event loop " + name + " failed", e);
        }
        Thread dog = watchdog;
        if (dog != null) {
            dog.interrupt();
            try {
                dog.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the selector is open; false once the loop is closed. Any thread. */
    public boolean isSelectorOpen() {
        return selector.isOpen();
    }

    // ---- watchdog ---------------------------------------------------------------------------------------------

    private void startWatchdog() {
        if (stallThreshold == null || watchdog != null) {
            return;
        }
        Thread loopThread = owner;
        long thresholdNanos = stallThreshold.toNanos();
        long pollNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), thresholdNanos / 4);
        watchdog = Thread.ofPlatform().name(name + "-watchdog").daemon(true).start(() -> {
            Running reported = null;
            while (!closed && !Thread.currentThread().isInterrupted()) {
                LockSupport.parkNanos(this, pollNanos);
                Running now = current;
                if (now == null || now == reported) {
                    continue;
                }
                long stalledFor = System.nanoTime() - now.since();
                Thread thread = owner != null ? owner : loopThread;
                if (stalledFor >= thresholdNanos) {
                    StackTraceElement[] stack = thread.getStackTrace();
                    if (current != now) {
                        continue; // the callback returned while the stack was taken: not a stall any more
                    }
                    reported = now;
                    try {
                        stallListener.accept(new LoopStall(name, now.handle().name(),
                                Duration.ofNanos(stalledFor), Arrays.asList(stack)));
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.ERROR, "the stall listener of event loop " + name + " failed", e);
                    }
                }
            }
        });
    }

    /** Whether the stall watchdog thread is alive. Any thread. */
    public boolean isWatchdogRunning() {
        Thread dog = watchdog;
        return dog != null && dog.isAlive();
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    /** Throws if a thread other than the loop's calls while the loop runs (asyncio's debug-mode check). */
    void checkThread(String operation) {
        Thread running = owner;
        if (running != null && running != Thread.currentThread()) {
            throw new IllegalStateException(operation + " called from thread " + Thread.currentThread().getName()
                    + " while event loop " + name + " runs on thread " + running.getName()
                    + "; only callSoonThreadsafe may be called from another thread");
        }
    }

    /** {@code what} null: an unnamed callback, described by the callback itself. */
    private void checkOpen(String operation, String what, Object callback) {
        Objects.requireNonNull(callback, "callback");
        checkThread(operation);
        if (closed) {
            throw new IllegalStateException(operation + "(" + (what != null ? what : callback) + "): event loop "
                    + name + " is closed");
        }
    }

    Task<?> enterTask(Task<?> task) {
        Task<?> previous = currentTask;
        currentTask = task;
        return previous;
    }

    void leaveTask(Task<?> previous) {
        currentTask = previous;
    }

    private static String nameOf(Object callback) {
        Objects.requireNonNull(callback, "callback");
        return callback.toString();
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE / 2 : Long.MAX_VALUE / 2;
        }
    }

    @Override
    public String toString() {
        return "SelectorEventLoop[" + name + (closed ? ", closed" : owner != null ? ", running" : "") + "]";
    }

    /**
     * Settings of a new loop. Not thread-safe; use it on one thread and discard it after {@link #build()}.
     */
    public static final class Builder {
        private String name;
        private boolean debug;
        private Duration slowCallbackDuration = DEFAULT_SLOW_CALLBACK_DURATION;
        private Consumer<? super SlowCallback> slowCallbackListener;
        private Consumer<? super CallbackError> exceptionHandler;
        private Duration stallThreshold;
        private Consumer<? super LoopStall> stallListener;

        private Builder() {
        }

        /** The loop's name (default {@code event-loop-N}); used in reports and the watchdog thread's name. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Debug mode: report callbacks slower than the slow-callback duration (asyncio's {@code debug=True}). */
        public Builder debug(boolean debug) {
            this.debug = debug;
            return this;
        }

        /** The slow-callback duration of debug mode; default {@link #DEFAULT_SLOW_CALLBACK_DURATION}. */
        public Builder slowCallbackDuration(Duration duration) {
            Objects.requireNonNull(duration, "duration");
            if (duration.isNegative()) {
                throw new IllegalArgumentException("slow callback duration must not be negative, got " + duration);
            }
            this.slowCallbackDuration = duration;
            return this;
        }

        /** Receives slow-callback reports on the loop thread instead of the log. */
        public Builder slowCallbackListener(Consumer<? super SlowCallback> listener) {
            this.slowCallbackListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Receives exceptions thrown by callbacks, on the loop thread, instead of the log. */
        public Builder exceptionHandler(Consumer<? super CallbackError> handler) {
            this.exceptionHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Enables the stall watchdog: a daemon thread that reports, once per stall, a callback that has run for
         * longer than {@code threshold}, with the loop thread's stack, to {@code listener} (called on the watchdog
         * thread; it must be thread-safe).
         */
        public Builder watchdog(Duration threshold, Consumer<? super LoopStall> listener) {
            Objects.requireNonNull(threshold, "threshold");
            if (threshold.isNegative() || threshold.isZero()) {
                throw new IllegalArgumentException("watchdog threshold must be positive, got " + threshold);
            }
            this.stallThreshold = threshold;
            this.stallListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Opens the selector and returns the loop. */
        public SelectorEventLoop build() {
            return new SelectorEventLoop(this);
        }
    }
}
