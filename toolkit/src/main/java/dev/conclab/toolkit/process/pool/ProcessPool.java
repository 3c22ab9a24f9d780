package dev.conclab.toolkit.process.pool;

import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A pool of worker JVM processes that run static methods named by {@link TaskRef}: the JVM's counterpart of
 * Python's {@code multiprocessing.Pool}. Arguments and results cross the process boundary as {@link WireFormat}
 * values (null, boolean, long, double, String, byte[], lists and maps of those); nothing is serialized.
 *
 * <p><b>Work distribution.</b> Calls are cut into <em>chunks</em> of up to {@code chunksize} argument lists; each
 * chunk is one round trip to one worker. Chunks wait in one FIFO queue; each worker takes the next chunk when it
 * is free, so chunks start in submission order and finish in any order. A worker runs one chunk at a time.
 *
 * <p><b>Thread safety and blocking.</b> All methods may be called from any number of threads. {@code apply},
 * {@code map} and {@code starmap} block until their results are in (or their timeout passes);
 * {@code applyAsync} does not block; the iterators of {@code imap} and {@code imapUnordered} block in
 * {@code next()} until the next result is in. Submission itself never waits for a worker: the queue is unbounded.
 * A thread interrupted while blocked in {@code apply}, {@code map} or {@code starmap} cancels the chunk it was
 * waiting for (killing its worker if the chunk is running) and throws {@link InterruptedException}.
 *
 * <p><b>Ordering.</b> {@code map}, {@code starmap} and {@code imap} return results in the order of their
 * arguments; {@code imapUnordered} in the order chunks complete (results of one chunk stay in order).
 *
 * <p><b>Memory effects.</b> Arguments are encoded in the submitting thread before the call returns, so later
 * changes to the argument objects do not affect the call. Results are fresh, unmodifiable objects decoded from
 * the wire; the completion of a result happens-before a caller that obtains it returns.
 *
 * <p><b>Failure semantics.</b> Blocking calls throw {@link ExecutionException}, futures and iterators a
 * {@link CompletionException}, with cause:
 * <ul>
 *   <li>{@link RemoteTaskException} — the task threw; carries the remote class, message, stack trace and cause;
 *   the worker lives on.</li>
 *   <li>{@link WorkerCrashedException} — the worker died (or its initializer failed, or it broke the wire) while
 *   running the chunk; names the pid and exit status. The worker is replaced; other chunks are unaffected.</li>
 *   <li>{@link TimeoutException} — the call's timeout, counted from submission, passed; chunks still queued are
 *   dropped and workers still running them are killed and replaced (blocking calls throw the
 *   {@code TimeoutException} itself).</li>
 *   <li>{@link CancellationException} — the future was cancelled (its worker, if running it, is killed and
 *   replaced), or the pool was {@linkplain #terminate() terminated}.</li>
 * </ul>
 * A chunk fails as a whole: a task that throws fails every call of its chunk. Arguments that are not wire values
 * are rejected at submission with {@link IllegalArgumentException}; submissions after {@link #shutdown()} with
 * {@link RejectedExecutionException}.
 *
 * <p><b>Life cycle.</b> {@link State#RUNNING} → {@link #shutdown()} → {@link State#SHUTDOWN} (accepted work is
 * drained, then workers exit) → {@link State#TERMINATED}; or {@link #terminate()} from either → {@link
 * State#TERMINATING} (queued work cancelled, workers killed) → {@link State#TERMINATED}. {@link #join()} waits for
 * {@code TERMINATED}: every pool thread ended and every worker process exited. {@link #close()} is
 * {@code shutdown()} then {@code join()}, as {@link java.util.concurrent.ExecutorService#close()}; so Python's
 * {@code pool.close(); pool.join()} is {@code pool.shutdown(); pool.join()} here, or just {@code close()}.
 * Workers also exit on their own within about a second when the pool's JVM dies, however it dies.
 */
public final class ProcessPool implements AutoCloseable {

    /** The pool's life-cycle states; see the class description. */
    public enum State { RUNNING, SHUTDOWN, TERMINATING, TERMINATED }

    /**
     * JVM options for workers by default: a small, fast-starting JVM (the JDK's class-data sharing archive, serial
     * GC); about 90 ms from launch to ready on 2 vCPUs. An application archive of the worker's classes
     * ({@code -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=…}, a file the caller chooses) cut that to about
     * 55 ms in {@code bench}'s {@code WorkerStartup}.
     */
    public static final List<String> DEFAULT_WORKER_OPTIONS = List.of("-Xshare:auto", "-XX:+UseSerialGC");

    private static final Chunk POISON = new Chunk(-1, null, 0, new byte[0]);
    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final int poolId = POOL_IDS.incrementAndGet();
    private final JvmLauncher launcher;
    private final TaskRef initializer;
    private final int maxTasksPerChild;
    private final int maxPayload;
    private final BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    private final List<Slot> slots = new ArrayList<>();
    private final Object lock = new Object();
    private final AtomicLong requestIds = new AtomicLong();
    private final AtomicLong workersStarted = new AtomicLong();
    private final List<Duration> startupTimes = new CopyOnWriteArrayList<>();
    private final ScheduledThreadPoolExecutor timer;
    private volatile State state = State.RUNNING;

    private ProcessPool(Builder builder) {
        this.launcher = JvmLauncher.ofCurrentJvm().withOptions(builder.jvmOptions.toArray(String[]::new));
        this.initializer = builder.initializer;
        this.maxTasksPerChild = builder.maxTasksPerChild;
        this.maxPayload = builder.maxPayload;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "process-pool-" + poolId + "-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        for (int i = 0; i < builder.workers; i++) {
            Slot slot = new Slot(i);
            slots.add(slot);
        }
        for (Slot slot : slots) {
            slot.thread.start();
        }
    }

    /** A pool of {@code workers} worker processes with default settings. */
    public static ProcessPool of(int workers) {
        return builder().workers(workers).build();
    }

    /** A builder with {@code availableProcessors()} workers, no initializer and no task limit per worker. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link ProcessPool}. Not thread-safe; {@link #build()} may be called more than once. */
    public static final class Builder {
        private int workers = Runtime.getRuntime().availableProcessors();
        private int maxTasksPerChild;
        private TaskRef initializer;
        private List<String> jvmOptions = DEFAULT_WORKER_OPTIONS;
        private int maxPayload = WireFormat.DEFAULT_MAX_PAYLOAD;

        private Builder() {
        }

        /** The number of worker processes, 1 to 256. */
        public Builder workers(int workers) {
            if (workers < 1 || workers > 256) {
                throw new IllegalArgumentException("workers must be in 1..256: " + workers);
            }
            this.workers = workers;
            return this;
        }

        /** Replace a worker after it has run this many chunks (a chunk counts as one task); 0 means never. */
        public Builder maxTasksPerChild(int maxTasksPerChild) {
            if (maxTasksPerChild < 0) {
                throw new IllegalArgumentException("maxTasksPerChild must be ≥ 0: " + maxTasksPerChild);
            }
            this.maxTasksPerChild = maxTasksPerChild;
            return this;
        }

        /**
         * A no-argument static method run once in each worker when it starts, before its first task. If it throws,
         * the worker is discarded and the chunk it was started for fails with a {@link WorkerCrashedException}
         * whose cause is the remote exception.
         */
        public Builder initializer(TaskRef initializer) {
            this.initializer = Objects.requireNonNull(initializer, "initializer");
            return this;
        }

        /** The JVM options of workers, replacing {@link #DEFAULT_WORKER_OPTIONS}. */
        public Builder jvmOptions(String... options) {
            this.jvmOptions = List.of(options);
            return this;
        }

        /** The largest payload of one frame, in bytes, both ways (default 256 MiB); at least 1 KiB. */
        public Builder maxPayloadBytes(int maxPayload) {
            if (maxPayload < 1024) {
                throw new IllegalArgumentException("maxPayloadBytes must be ≥ 1024: " + maxPayload);
            }
            this.maxPayload = maxPayload;
            return this;
        }

        /** Starts the pool: its workers start at once, in parallel. */
        public ProcessPool build() {
            return new ProcessPool(this);
        }
    }

    // ---------------------------------------------------------------- submission

    /** Runs {@code task(args...)} in a worker and returns its result; blocks until it is in. */
    public Object apply(TaskRef task, Object... args) throws InterruptedException, ExecutionException {
        return await(applyAsync(task, args));
    }

    /**
     * As {@link #apply(TaskRef, Object...)} with a timeout counted from now.
     *
     * @throws TimeoutException the timeout passed; the worker running the task, if any, has been killed
     */
    public Object apply(TaskRef task, List<?> args, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return awaitTimed(applyAsync(task, args, timeout));
    }

    /** Submits {@code task(args...)} and returns at once a future of its result. */
    public CompletableFuture<Object> applyAsync(TaskRef task, Object... args) {
        return applyAsync(task, Arrays.asList(args), null);
    }

    /**
     * Submits {@code task(args)}; the future fails with {@link TimeoutException} if the result is not in within
     * {@code timeout} ({@code null}: no timeout). Cancelling the future kills the worker running the task.
     */
    public CompletableFuture<Object> applyAsync(TaskRef task, List<?> args, Duration timeout) {
        Objects.requireNonNull(args, "args");
        Chunk chunk = submit(task, List.of(args), 1, timeout).getFirst();
        CompletableFuture<Object> result = chunk.result.thenApply(List::getFirst);
        result.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                chunk.result.cancel(false);
            }
        });
        return result;
    }

    /** {@code map(task, items, 1, null)}. */
    public List<Object> map(TaskRef task, Iterable<?> items) throws InterruptedException, ExecutionException {
        return map(task, items, 1);
    }

    /** Calls {@code task(item)} for each item in chunks of {@code chunksize}; results in item order. Blocks. */
    public List<Object> map(TaskRef task, Iterable<?> items, int chunksize) throws InterruptedException, ExecutionException {
        try {
            return map(task, items, chunksize, null);
        } catch (TimeoutException impossible) {
            throw new AssertionError(impossible);
        }
    }

    /**
     * As {@link #map(TaskRef, Iterable, int)}, failing with {@link TimeoutException} when all results are not in
     * within {@code timeout} ({@code null}: none) of submission. The first failing chunk in item order decides
     * the exception; the other chunks of the call still run.
     */
    public List<Object> map(TaskRef task, Iterable<?> items, int chunksize, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return starmap(task, singletons(items), chunksize, timeout);
    }

    /** {@code starmap(task, argLists, 1, null)}. */
    public List<Object> starmap(TaskRef task, Iterable<? extends List<?>> argLists)
            throws InterruptedException, ExecutionException {
        try {
            return starmap(task, argLists, 1, null);
        } catch (TimeoutException impossible) {
            throw new AssertionError(impossible);
        }
    }

    /** As {@link #map(TaskRef, Iterable, int, Duration)}, each element being the argument list of one call. */
    public List<Object> starmap(TaskRef task, Iterable<? extends List<?>> argLists, int chunksize, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<Chunk> chunks = submit(task, argLists, chunksize, timeout);
        List<Object> results = new ArrayList<>();
        for (Chunk chunk : chunks) {
            results.addAll(awaitTimed(chunk.result));
        }
        return Collections.unmodifiableList(results);
    }

    /**
     * Submits {@code task(item)} for every item now and returns an iterator over the results in item order;
     * {@code next()} blocks until the next result is in and throws a {@link CompletionException} (cause as in the
     * class description) when its chunk failed; an interrupt while waiting throws a {@link CompletionException}
     * caused by {@link InterruptedException}, with the interrupt status set. The iterator is for one thread.
     */
    public Iterator<Object> imap(TaskRef task, Iterable<?> items, int chunksize) {
        List<Chunk> chunks = submit(task, singletons(items), chunksize, null);
        return new ChunkIterator(chunks.iterator()::next, chunks.size());
    }

    /** As {@link #imap} but results come in the order their chunks complete. */
    public Iterator<Object> imapUnordered(TaskRef task, Iterable<?> items, int chunksize) {
        BlockingQueue<Chunk> done = new LinkedBlockingQueue<>();
        // Registered before the chunks are queued, so that done receives them in the order they complete.
        List<Chunk> chunks = submit(task, singletons(items), chunksize, null,
                chunk -> chunk.result.whenComplete((r, e) -> done.add(chunk)));
        return new ChunkIterator(done::take, chunks.size());
    }

    private static List<List<?>> singletons(Iterable<?> items) {
        Objects.requireNonNull(items, "items");
        List<List<?>> argLists = new ArrayList<>();
        for (Object item : items) {
            argLists.add(Collections.singletonList(item));
        }
        return argLists;
    }

    private List<Chunk> submit(TaskRef task, Iterable<? extends List<?>> argLists, int chunksize, Duration timeout) {
        return submit(task, argLists, chunksize, timeout, chunk -> { });
    }

    /** Cuts, encodes and queues the calls; {@code beforeQueued} sees each chunk before any worker can. */
    private List<Chunk> submit(TaskRef task, Iterable<? extends List<?>> argLists, int chunksize, Duration timeout,
                               Consumer<Chunk> beforeQueued) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(argLists, "argLists");
        if (chunksize < 1) {
            throw new IllegalArgumentException("chunksize must be ≥ 1: " + chunksize);
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        List<Chunk> chunks = new ArrayList<>();
        List<List<?>> batch = new ArrayList<>();
        for (List<?> args : argLists) {
            batch.add(Objects.requireNonNull(args, "an argument list is null"));
            if (batch.size() == chunksize) {
                chunks.add(encodeChunk(task, batch));
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            chunks.add(encodeChunk(task, batch));
        }
        synchronized (lock) { // against shutdown(): no chunk may land behind the poison pills
            if (state != State.RUNNING) {
                throw new RejectedExecutionException("pool is " + state + ": it accepts no more work");
            }
            if (timeout != null && !chunks.isEmpty()) {
                // Scheduled before the chunks are queued: join() stops the timer only after they are done.
                ScheduledFuture<?> alarm = timer.schedule(() -> {
                    for (Chunk chunk : chunks) {
                        chunk.result.completeExceptionally(new TimeoutException(task + " did not finish within "
                                + timeout));
                    }
                }, timeout.toNanos(), TimeUnit.NANOSECONDS);
                CompletableFuture.allOf(chunks.stream().map(c -> c.result).toArray(CompletableFuture[]::new))
                        .whenComplete((r, e) -> alarm.cancel(false));
            }
            chunks.forEach(beforeQueued);
            queue.addAll(chunks);
        }
        return chunks;
    }

    private Chunk encodeChunk(TaskRef task, List<List<?>> batch) {
        byte[] body = WireFormat.encode(List.of(task.className(), task.methodName(), batch));
        return new Chunk(requestIds.incrementAndGet(), task, batch.size(), body);
    }

    private static <T> T await(CompletableFuture<T> future) throws InterruptedException, ExecutionException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(false);
            throw e;
        }
    }

    private static <T> T awaitTimed(CompletableFuture<T> future)
            throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return await(future);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException timeout) {
                throw timeout;
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- life cycle

    /** The current state; see the class description. */
    public State state() {
        return state;
    }

    /** Stops accepting work; accepted work still runs, then workers exit. Returns at once; idempotent. */
    public void shutdown() {
        synchronized (lock) {
            if (state == State.RUNNING) {
                state = State.SHUTDOWN;
                for (int i = 0; i < slots.size(); i++) {
                    queue.add(POISON);
                }
            }
        }
    }

    /**
     * Stops accepting work, cancels queued chunks and kills every worker (running chunks fail with
     * {@link CancellationException}). Returns without waiting for the processes to exit (see {@link #join()});
     * idempotent.
     */
    public void terminate() {
        List<Chunk> dropped = new ArrayList<>();
        synchronized (lock) {
            if (state == State.TERMINATING || state == State.TERMINATED) {
                return;
            }
            state = State.TERMINATING;
            queue.drainTo(dropped);
            for (int i = 0; i < slots.size(); i++) {
                queue.add(POISON);
            }
        }
        for (Chunk chunk : dropped) {
            chunk.result.completeExceptionally(new CancellationException("pool terminated"));
        }
        for (Slot slot : slots) {
            slot.killWorker();
        }
    }

    /**
     * Waits until the pool is {@link State#TERMINATED}: every pool thread has ended and every worker process has
     * exited. Returns at once if it already is.
     *
     * @throws IllegalStateException the pool is still {@link State#RUNNING} (call {@link #shutdown()} or
     *                               {@link #terminate()} first, as with Python's {@code Pool.join})
     */
    public void join() throws InterruptedException {
        if (state == State.RUNNING) {
            throw new IllegalStateException("join() on a running pool: call shutdown() or terminate() first");
        }
        for (Slot slot : slots) {
            slot.thread.join();
        }
        timer.shutdownNow();
        timer.awaitTermination(1, TimeUnit.MINUTES);
        state = State.TERMINATED;
    }

    /** As {@link #join()}, giving up after {@code timeout}; returns whether the pool is terminated. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        if (state == State.RUNNING) {
            throw new IllegalStateException("awaitTermination() on a running pool: call shutdown() or terminate() first");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Slot slot : slots) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !slot.thread.join(Duration.ofNanos(left))) {
                return false;
            }
        }
        join();
        return true;
    }

    /**
     * {@link #shutdown()} then {@link #join()}: drains accepted work and waits for every worker to exit. If
     * interrupted while waiting, terminates the pool, keeps waiting, and returns with the interrupt status set.
     */
    @Override
    public void close() {
        shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
                terminate();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- observation

    /** The pids of the worker processes alive now, in slot order (a snapshot). */
    public List<Long> workerPids() {
        List<Long> pids = new ArrayList<>();
        for (Slot slot : slots) {
            Worker w = slot.worker;
            if (w != null && w.process.isAlive()) {
                pids.add(w.process.pid());
            }
        }
        return pids;
    }

    /** How many worker processes this pool has started so far, replacements included. */
    public long workersStarted() {
        return workersStarted.get();
    }

    /** The start-up time of every worker started so far: from launch to its READY frame (and initializer). */
    public List<Duration> startupTimes() {
        return List.copyOf(startupTimes);
    }

    /** The number of worker slots. */
    public int size() {
        return slots.size();
    }

    @Override
    public String toString() {
        return "ProcessPool[" + slots.size() + " workers, " + state + ", " + queue.size() + " chunks queued]";
    }

    // ---------------------------------------------------------------- internals

    /** A batch of calls of one task, sent as one CALL frame. */
    private static final class Chunk {
        final long id;
        final TaskRef task;
        final int calls;
        final byte[] body;
        final CompletableFuture<List<Object>> result = new CompletableFuture<>();
        /** The slot running this chunk, so that a timeout or cancel can kill its worker. */
        volatile Slot runningOn;
        /** Set before the worker's answer completes {@link #result}: the worker need not be killed. */
        volatile boolean answered;

        Chunk(long id, TaskRef task, int calls, byte[] body) {
            this.id = id;
            this.task = task;
            this.calls = calls;
            this.body = body;
            result.whenComplete((r, e) -> {
                if (!answered) { // completed from outside (timeout, cancel) while possibly running: stop it
                    Slot slot = runningOn;
                    if (slot != null) {
                        slot.killIfRunning(this);
                    }
                }
            });
        }

        String describe() {
            return task + " (request " + id + ", " + calls + (calls == 1 ? " call)" : " calls)");
        }
    }

    /** One worker process and the pool's ends of its pipes. */
    private record Worker(Process process, InputStream in, OutputStream out, int[] chunksRun) {
        long pid() {
            return process.pid();
        }

        /** The exit status, waiting briefly for a dying process; -1 if it does not exit. */
        int exitStatus() {
            try {
                if (process.waitFor(2, TimeUnit.SECONDS)) {
                    return process.exitValue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }

        void kill() {
            process.destroyForcibly();
        }

        /** Kills the process and waits until it has exited, so that no child outlives the pool. */
        void killAndReap() {
            process.destroyForcibly();
            boolean interrupted = false;
            while (true) {
                try {
                    process.waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            closeQuietly();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void closeQuietly() {
            try {
                out.close();
            } catch (IOException ignored) {
                // the process is gone: nothing to flush
            }
            try {
                in.close();
            } catch (IOException ignored) {
                // as above
            }
        }
    }

    /** A pool thread that owns one worker at a time and feeds it chunks from the queue. */
    private final class Slot implements Runnable {
        final Thread thread;
        volatile Worker worker;
        volatile Chunk current;

        Slot(int index) {
            thread = new Thread(this, "process-pool-" + poolId + "-slot-" + index);
            thread.setDaemon(true); // a forgotten pool must not keep the JVM alive; ParentWatch ends its workers
        }

        @Override
        public void run() {
            try {
                try {
                    startWorker(); // eagerly, so the first tasks do not wait for a JVM to start
                } catch (IOException | WorkerCrashedException e) {
                    // the next chunk starts another and reports the failure to its caller
                }
                while (true) {
                    Chunk chunk = queue.take();
                    if (chunk == POISON) {
                        break;
                    }
                    runChunk(chunk);
                }
            } catch (InterruptedException e) {
                // only join's caller interrupts no one; a stray interrupt ends the slot like a poison pill
            } finally {
                retireWorker(state == State.TERMINATING);
            }
        }

        private void runChunk(Chunk chunk) {
            if (chunk.result.isDone()) {
                return; // timed out or cancelled while queued
            }
            if (state == State.TERMINATING) {
                chunk.result.completeExceptionally(new CancellationException("pool terminated"));
                return;
            }
            Worker w = worker;
            if (w == null || !w.process.isAlive()) {
                try {
                    w = startWorker();
                } catch (IOException | WorkerCrashedException e) {
                    chunk.result.completeExceptionally(e);
                    return;
                }
            }
            current = chunk;
            chunk.runningOn = this;
            if (chunk.result.isDone()) { // timed out between the checks; its hook may have missed runningOn
                current = null;
                return;
            }
            try {
                WireFormat.writeEncoded(w.out, WireFormat.Type.CALL, chunk.id, chunk.body);
                WireFormat.Frame reply = WireFormat.read(w.in, maxPayload);
                deliver(chunk, w, reply);
                w.chunksRun[0]++;
                if (maxTasksPerChild > 0 && w.chunksRun[0] >= maxTasksPerChild) {
                    retireWorker(false);
                    if (state == State.RUNNING) {
                        startQuietly();
                    }
                }
            } catch (IOException e) {
                workerDied(chunk, w, e);
            } finally {
                current = null;
                chunk.runningOn = null;
            }
        }

        private void deliver(Chunk chunk, Worker w, WireFormat.Frame reply) throws IOException {
            if (reply == null) {
                throw new java.io.EOFException("worker closed its output");
            }
            if (reply.requestId() != chunk.id) {
                throw new FrameFormatException("reply for request " + reply.requestId() + " while waiting for " + chunk.id);
            }
            switch (reply.type()) {
                case RESULT -> {
                    if (!(reply.payload() instanceof List<?> list) || list.size() != chunk.calls) {
                        throw new FrameFormatException("RESULT payload is not a list of " + chunk.calls + " results");
                    }
                    @SuppressWarnings("unchecked") List<Object> results = (List<Object>) list;
                    chunk.answered = true;
                    chunk.result.complete(results);
                }
                case ERROR -> {
                    chunk.answered = true;
                    chunk.result.completeExceptionally(RemoteTaskException.fromWire(reply.payload()));
                }
                default -> throw new FrameFormatException("unexpected " + reply.type() + " frame in reply to CALL");
            }
        }

        private void workerDied(Chunk chunk, Worker w, IOException e) {
            w.kill(); // dead already, or it broke the wire and is not trusted again
            int status = w.exitStatus();
            w.closeQuietly();
            worker = null;
            if (state == State.TERMINATING) {
                chunk.result.completeExceptionally(new CancellationException("pool terminated"));
                return;
            }
            chunk.answered = true;
            chunk.result.completeExceptionally(e instanceof FrameFormatException
                    ? new WorkerCrashedException("worker pid " + w.pid() + " sent a malformed frame while running "
                    + chunk.describe() + " and was killed: " + e.getMessage(), w.pid(), status, e)
                    : new WorkerCrashedException(w.pid(), status, chunk.describe(), e));
            if (state == State.RUNNING) {
                startQuietly(); // replace it now, as multiprocessing.Pool does
            }
        }

        private void startQuietly() {
            try {
                startWorker();
            } catch (IOException | WorkerCrashedException e) {
                // reported to the next chunk, which starts another
            }
        }

        /** Starts a worker, waits for READY and runs the initializer; the slot owns it from then on. */
        private Worker startWorker() throws IOException, WorkerCrashedException {
            long start = System.nanoTime();
            Process process = launcher.start(WorkerMain.class, String.valueOf(maxPayload));
            Worker w = new Worker(process, new BufferedInputStream(process.getInputStream(), 1 << 16),
                    new BufferedOutputStream(process.getOutputStream(), 1 << 16), new int[1]);
            worker = w;
            workersStarted.incrementAndGet();
            if (state == State.TERMINATING) { // terminate() may have looked before worker was set
                w.kill();
            }
            try {
                WireFormat.Frame ready = WireFormat.read(w.in, maxPayload);
                if (ready == null || ready.type() != WireFormat.Type.READY) {
                    throw new java.io.EOFException("no READY frame");
                }
                if (initializer != null) {
                    WireFormat.write(w.out, WireFormat.Type.INIT, 0, List.of(initializer.className(), initializer.methodName()));
                    WireFormat.Frame reply = WireFormat.read(w.in, maxPayload);
                    if (reply != null && reply.type() == WireFormat.Type.ERROR) {
                        w.killAndReap();
                        worker = null;
                        throw new WorkerCrashedException("worker pid " + w.pid() + " discarded: its initializer "
                                + initializer + " threw", w.pid(), -1, RemoteTaskException.fromWire(reply.payload()));
                    }
                    if (reply == null || reply.type() != WireFormat.Type.RESULT) {
                        throw new java.io.EOFException("no answer to INIT");
                    }
                }
            } catch (IOException e) {
                w.kill();
                int status = w.exitStatus();
                w.closeQuietly();
                worker = null;
                throw new WorkerCrashedException(w.pid(), status, "its start-up", e);
            }
            startupTimes.add(Duration.ofNanos(System.nanoTime() - start));
            return w;
        }

        /** Lets the worker exit (SHUTDOWN) or kills it, and waits for its exit. */
        private void retireWorker(boolean kill) {
            Worker w = worker;
            worker = null;
            if (w == null) {
                return;
            }
            if (!kill && w.process.isAlive()) {
                try {
                    WireFormat.write(w.out, WireFormat.Type.SHUTDOWN, 0, null);
                    if (w.process.waitFor(10, TimeUnit.SECONDS)) {
                        w.closeQuietly();
                        return;
                    }
                } catch (IOException ignored) {
                    // already gone: reaped below
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            w.killAndReap();
        }

        void killWorker() {
            Worker w = worker;
            if (w != null) {
                w.kill();
            }
        }

        void killIfRunning(Chunk chunk) {
            Worker w = worker;
            if (current == chunk && w != null) {
                w.kill();
            }
        }
    }

    /** Streams the results of chunks, taking them from {@code next} as they are needed. */
    private static final class ChunkIterator implements Iterator<Object> {
        private interface ChunkSource {
            Chunk next() throws InterruptedException;
        }

        private final ChunkSource source;
        private int chunksLeft;
        private Iterator<Object> currentResults = Collections.emptyIterator();

        ChunkIterator(ChunkSource source, int chunks) {
            this.source = source;
            this.chunksLeft = chunks;
        }

        @Override
        public boolean hasNext() {
            return currentResults.hasNext() || chunksLeft > 0;
        }

        @Override
        public Object next() {
            if (!currentResults.hasNext()) {
                if (chunksLeft == 0) {
                    throw new NoSuchElementException();
                }
                try {
                    Chunk chunk = source.next();
                    chunksLeft--;
                    currentResults = chunk.result.get().iterator();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(e);
                } catch (ExecutionException e) {
                    throw new CompletionException(e.getCause());
                }
            }
            return currentResults.next();
        }
    }
}
