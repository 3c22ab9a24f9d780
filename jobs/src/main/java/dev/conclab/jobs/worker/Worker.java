package dev.conclab.jobs.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.Json;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import dev.conclab.toolkit.process.pool.ProcessPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Consumes tasks from a broker and runs them: Celery's worker, on the JVM.
 *
 * <p><b>Delivery.</b> At least once with late acknowledgement: a message is settled (acknowledged) only after its
 * task finished, failed, was revoked or was given back; a worker killed mid-task leaves its reservations to lapse,
 * and another worker gets them after the visibility timeout. While a task runs, a heartbeat extends its reservation
 * every third of the timeout, so a long task is not redelivered while its worker lives. A redelivered message whose
 * task is already final is settled as a duplicate without running.
 *
 * <p><b>Concurrency and prefetch.</b> At most {@code concurrency} bodies run at once; at most
 * {@code concurrency × prefetchMultiplier} messages are held (reserved) at once, running ones included, so one
 * worker cannot hoard a queue other workers could drain. Held messages start in the order the broker delivered
 * them.
 *
 * <p><b>Failures.</b> A body that throws is retried with exponential back-off and full jitter ({@link Backoff})
 * while its attempt is below its {@code maxRetries}, then failed into the dead-letter set. At its soft time limit
 * the body's thread is interrupted (a body that returns anyway succeeds; one that throws fails, without retry). At
 * its hard limit the worker abandons it: the task is settled FAILURE at once and its slot is freed. With threads a
 * body cannot be stopped by force: an abandoned body keeps its thread until it heeds the interrupt (its result is
 * then discarded); with the process pool its child JVM is killed, as Celery's prefork does. A revoked task that is
 * running is interrupted and settled REVOKED; the worker learns of revocations by polling the broker.
 *
 * <p><b>Rate limits</b> declared by a task are taken from the broker's shared token bucket before the body starts,
 * so they hold across all workers; a task waiting for a permit holds its execution slot.
 *
 * <p><b>Canvas.</b> A chain step receives its parent's result (read from the broker) as its first argument; a
 * chord's callback receives the members' results, in member order, as one JSON array.
 *
 * <p><b>Life cycle and threads.</b> {@link #start()} starts four platform threads (fetcher, dispatcher, timer,
 * and the recorder that batches starts and settlements into few broker writes) and the pool; {@link #shutdown(Duration)} stops fetching, gives back the prefetched messages at once, waits for
 * running tasks until the deadline, then interrupts and gives back the rest, and stops every thread and child
 * process the worker started. All public methods are thread-safe.
 */
public final class Worker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Worker.class.getName());
    private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);

    private enum Phase { NEW, RUNNING, STOPPING, STOPPED }

    private final Broker broker;
    private final TaskRegistry registry;
    private final WorkerConfig config;
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final Map<String, InFlight> held = new ConcurrentHashMap<>();
    private final BlockingQueue<InFlight> prefetched = new LinkedBlockingQueue<>();
    private final Semaphore room;
    private final Semaphore slots;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.NEW);
    private final Object finishedSignal = new Object();

    private volatile boolean fetching;
    private Thread fetcher;
    private Thread dispatcher;
    private ScheduledThreadPoolExecutor timer;
    private ExecutorService bodies;
    private ProcessPool processPool;
    private Recorder recorder;
    private volatile ShutdownReport shutdownReport;

    /**
     * A worker, not yet started.
     *
     * @param broker   the broker; the worker does not close it
     * @param registry the tasks it can run (with {@link PoolKind#PROCESSES}, the one {@code registryClass}
     *                 supplies)
     * @param config   how it runs
     */
    public Worker(Broker broker, TaskRegistry registry, WorkerConfig config) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.config = Objects.requireNonNull(config, "config");
        this.room = new Semaphore(config.prefetchLimit());
        this.slots = new Semaphore(config.concurrency());
    }

    /** The configuration. */
    public WorkerConfig config() {
        return config;
    }

    /** Starts fetching and running tasks. May be called once. */
    public Worker start() {
        if (!phase.compareAndSet(Phase.NEW, Phase.RUNNING)) {
            throw new IllegalStateException("worker " + config.consumer() + " was already started");
        }
        String name = "jobs-" + config.consumer();
        switch (config.pool()) {
            case VTHREADS -> bodies = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(name + "-task-", 0)
                    .factory());
            case THREADS -> {
                // concurrency threads kept alive; more only while abandoned bodies still hold theirs
                ThreadPoolExecutor pool = new ThreadPoolExecutor(config.concurrency(), Integer.MAX_VALUE, 30,
                        TimeUnit.SECONDS, new SynchronousQueue<>(), Thread.ofPlatform().name(name + "-task-", 0)
                        .factory());
                pool.prestartAllCoreThreads();
                bodies = pool;
            }
            case PROCESSES -> {
                ProcessTaskBridge.load(config.registryClass()); // fail fast, here, if children could not load it
                processPool = ProcessPool.builder().workers(config.concurrency()).build();
                bodies = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(name + "-call-", 0).factory());
            }
        }
        timer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name(name + "-timer").daemon().factory());
        timer.setRemoveOnCancelPolicy(true);
        long beat = Math.max(1, config.heartbeat().toMillis());
        timer.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
        long poll = config.revocationPoll().toMillis();
        timer.scheduleWithFixedDelay(this::pollRevocations, poll, poll, TimeUnit.MILLISECONDS);
        recorder = new Recorder(broker, name + "-record");
        fetching = true;
        dispatcher = Thread.ofPlatform().name(name + "-dispatch").start(this::dispatchLoop);
        fetcher = Thread.ofPlatform().name(name + "-fetch").start(this::fetchLoop);
        return this;
    }

    /** The counters and gauges now. */
    public WorkerMetrics.Snapshot metrics() {
        return metrics.snapshot(running.get(), held.size());
    }

    /** The ids of the tasks running now. */
    public List<String> runningTaskIds() {
        return held.values().stream().filter(e -> e.state.get() == InFlight.State.RUNNING).map(InFlight::id)
                .toList();
    }

    // ---- fetching and dispatching ----

    private void fetchLoop() {
        while (fetching) {
            try {
                // not interrupted by shutdown: an interrupt inside reserve() could strand a reservation until
                // it lapses, so the loop notices the stop flag within one fetchWait instead
                if (!room.tryAcquire(config.fetchWait().toMillis(), TimeUnit.MILLISECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                break;
            }
            int want = 1 + room.drainPermits();
            // While enough work waits locally to keep every slot busy, gather room for a larger batch first
            // (one reserve of many messages costs the broker about what a reserve of one does), but for one
            // fetchWait at most: the slots may all be held by long tasks, and the room must not sit unused.
            int batch = Math.max(1, config.prefetchLimit() / 2);
            long gatherUntil = System.nanoTime() + config.fetchWait().toNanos();
            try {
                while (want < batch && fetching && prefetched.size() >= config.concurrency()
                        && System.nanoTime() < gatherUntil) {
                    if (room.tryAcquire(2, TimeUnit.MILLISECONDS)) {
                        want += 1 + room.drainPermits();
                    }
                }
            } catch (InterruptedException e) {
                room.release(want);
                break;
            }
            List<Delivery> got = List.of();
            try {
                if (fetching) {
                    got = broker.reserve(config.consumer(), config.queues(), want, config.visibility(),
                            config.fetchWait());
                }
            } catch (InterruptedException e) {
                room.release(want);
                break;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "reserve failed; retrying", e);
                room.release(want);
                pause(config.fetchWait());
                continue;
            }
            room.release(want - got.size());
            for (Delivery delivery : got) {
                metrics.received.increment();
                InFlight entry = new InFlight(delivery);
                held.put(entry.id(), entry);
                prefetched.add(entry);
            }
        }
    }

    private void dispatchLoop() {
        while (true) {
            InFlight entry;
            try {
                entry = prefetched.take();
                slots.acquire();
            } catch (InterruptedException e) {
                return; // shutdown gives back whatever is still PREFETCHED
            }
            if (!entry.move(InFlight.State.PREFETCHED, InFlight.State.RUNNING)) {
                slots.release(); // revoked, lost or released meanwhile
                continue;
            }
            entry.holdsSlot = true;
            running.incrementAndGet();
            try {
                bodies.execute(() -> execute(entry));
            } catch (RuntimeException e) { // the executor was shut down under us
                if (entry.move(InFlight.State.RUNNING, InFlight.State.RELEASED)) {
                    settle(entry, new Settlement.Release());
                    metrics.released.increment();
                }
                finish(entry);
                return;
            }
        }
    }

    // ---- one task ----

    private void execute(InFlight entry) {
        Thread.interrupted(); // a late interrupt aimed at this pool thread's previous task is not for this one
        entry.thread = Thread.currentThread();
        TaskMessage message = entry.delivery.message();
        try {
            if (entry.delivery.redelivered() && settledAlready(entry)) {
                return;
            }
            Optional<TaskDefinition> definition = registry.find(message.name());
            if (definition.isEmpty()) {
                conclude(entry, new Settlement.Failure("unknown task '" + message.name() + "' on worker "
                        + config.consumer(), true));
                return;
            }
            TaskDefinition def = definition.get();
            String resultJson;
            try {
                awaitPermit(def);
                List<JsonNode> args = resolveArgs(message);
                if (config.trackStarted()) {
                    recorder.started(entry.delivery);
                }
                metrics.started.increment();
                entry.startedNanos = System.nanoTime();
                armLimits(entry);
                resultJson = invoke(entry, def, args);
            } catch (Throwable failure) {
                entry.cancelTimers();
                conclude(entry, failureSettlement(entry, def, failure));
                return;
            }
            entry.cancelTimers();
            conclude(entry, entry.revoked ? new Settlement.Revoked("revoked while running")
                    : new Settlement.Success(resultJson));
        } catch (RuntimeException e) { // the broker failed: leave the reservation to lapse and be redelivered
            LOG.log(Level.WARNING, "task " + message.id() + ": broker call failed; the message will be redelivered",
                    e);
        } finally {
            Thread.interrupted(); // an interrupt aimed at this task must not leak into the pool's next one
            entry.thread = null;
            finish(entry);
        }
    }

    private boolean settledAlready(InFlight entry) {
        Optional<TaskRecord> record = broker.record(entry.id());
        if (record.isEmpty() || !record.get().state().isFinal()) {
            return false;
        }
        TaskRecord r = record.get();
        Settlement same = switch (r.state()) {
            case SUCCESS -> new Settlement.Success(r.resultJson() == null ? "null" : r.resultJson());
            case REVOKED -> new Settlement.Revoked(r.error() == null ? "revoked" : r.error());
            default -> new Settlement.Failure(r.error() == null ? "failed" : r.error(), false);
        };
        if (entry.move(InFlight.State.RUNNING, InFlight.State.SETTLING)) {
            settle(entry, same);
            metrics.duplicates.increment();
        }
        return true;
    }

    private void awaitPermit(TaskDefinition def) throws InterruptedException {
        if (def.rateLimit() == null) {
            return;
        }
        while (true) {
            long waitMillis = broker.tryAcquirePermit("task-rate:" + def.name(), def.rateLimit().permitsPerSecond(),
                    def.rateLimit().burst());
            if (waitMillis <= 0) {
                return;
            }
            metrics.rateLimitWaits.increment();
            TimeUnit.MILLISECONDS.sleep(waitMillis);
        }
    }

    private List<JsonNode> resolveArgs(TaskMessage message) {
        List<JsonNode> args = new ArrayList<>();
        if (message.parentId() != null) {
            TaskRecord parent = broker.record(message.parentId()).orElseThrow(() -> new IllegalStateException(
                    "chain parent " + message.parentId() + " of " + message.id() + " has no record"));
            args.add(Json.read(parent.resultJson() == null ? "null" : parent.resultJson()));
        }
        if (message.chordResultsOf() != null) {
            List<String> members = broker.chordMembers(message.chordResultsOf());
            List<TaskRecord> records = broker.records(members);
            if (records.size() != members.size()) {
                throw new IllegalStateException("chord " + message.chordResultsOf() + ": " + members.size()
                        + " members but " + records.size() + " records");
            }
            ArrayNode results = Json.MAPPER.createArrayNode();
            for (TaskRecord r : records) {
                results.add(Json.read(r.resultJson() == null ? "null" : r.resultJson()));
            }
            args.add(results);
        }
        Json.read(message.argsJson()).forEach(args::add);
        return args;
    }

    private String invoke(InFlight entry, TaskDefinition def, List<JsonNode> args) throws Exception {
        if (processPool == null) {
            return Json.write(def.body().run(entry, args));
        }
        CompletableFuture<Object> call = processPool.applyAsync(ProcessTaskBridge.RUN, config.registryClass(),
                def.name(), Json.write(args), entry.id(), (long) entry.attempt(), (long) entry.deliveries());
        entry.remote = call;
        if (entry.state.get() != InFlight.State.RUNNING || entry.revoked) {
            call.cancel(true); // stopped between the check and the call
        }
        try {
            return (String) call.get();
        } catch (InterruptedException e) {
            call.cancel(true); // kills the child running it; the pool replaces it
            throw e;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private Settlement failureSettlement(InFlight entry, TaskDefinition def, Throwable failure) {
        TaskMessage m = entry.delivery.message();
        String error = describe(failure);
        if (entry.revoked) {
            return new Settlement.Revoked("revoked while running");
        }
        if (entry.softLimited) {
            return new Settlement.Failure("soft time limit exceeded (" + m.softLimitMillis() + " ms): " + error,
                    false);
        }
        if (failure instanceof Error && !(failure instanceof AssertionError)) {
            return new Settlement.Failure(error, true);
        }
        if (m.attempt() < m.maxRetries()) {
            long delay = Backoff.delayMillis(def.backoffBase(), def.backoffCap(), m.attempt());
            return new Settlement.Retry(System.currentTimeMillis() + delay, error);
        }
        return new Settlement.Failure(error + " (after " + (m.attempt() + 1) + " attempt(s))", true);
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getName() + (message == null ? "" : ": " + message);
    }

    /** Settles a RUNNING entry unless someone else (hard limit, shutdown) already took it over. */
    private void conclude(InFlight entry, Settlement settlement) {
        if (!entry.move(InFlight.State.RUNNING, InFlight.State.SETTLING)) {
            return;
        }
        settle(entry, settlement);
        switch (settlement) {
            case Settlement.Success s -> metrics.succeeded.increment();
            case Settlement.Retry r -> metrics.retried.increment();
            case Settlement.Failure f -> {
                metrics.failed.increment();
                if (f.deadLetter()) {
                    metrics.deadLettered.increment();
                }
            }
            case Settlement.Revoked r -> metrics.revoked.increment();
            case Settlement.Release r -> metrics.released.increment();
        }
        entry.state.set(InFlight.State.DONE);
    }

    private void settle(InFlight entry, Settlement settlement) {
        if (!recorder.settle(entry.delivery, settlement)) {
            metrics.settlementsDropped.increment();
        }
    }

    /** Gives up the hold of an entry, once: the held map, its prefetch room and its execution slot. */
    private void finish(InFlight entry) {
        if (!entry.finished.compareAndSet(false, true)) {
            return;
        }
        held.remove(entry.id(), entry);
        if (entry.holdsSlot) {
            running.decrementAndGet();
            slots.release();
        }
        room.release();
        synchronized (finishedSignal) {
            finishedSignal.notifyAll();
        }
    }

    // ---- timers: limits, heartbeat, revocations ----

    private void armLimits(InFlight entry) {
        TaskMessage m = entry.delivery.message();
        if (m.softLimitMillis() > 0) {
            entry.softTimer = timer.schedule(() -> {
                if (entry.state.get() == InFlight.State.RUNNING) {
                    entry.softLimited = true;
                    metrics.softLimited.increment();
                    entry.interrupt();
                }
            }, m.softLimitMillis(), TimeUnit.MILLISECONDS);
        }
        if (m.hardLimitMillis() > 0) {
            entry.hardTimer = timer.schedule(() -> abandon(entry), m.hardLimitMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void abandon(InFlight entry) {
        if (!entry.move(InFlight.State.RUNNING, InFlight.State.ABANDONED)) {
            return;
        }
        metrics.hardLimited.increment();
        entry.interrupt();
        try {
            settle(entry, new Settlement.Failure("hard time limit exceeded ("
                    + entry.delivery.message().hardLimitMillis() + " ms): abandoned by " + config.consumer(), false));
            metrics.failed.increment();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "hard limit of " + entry.id() + ": settle failed; it will be redelivered", e);
        }
        finish(entry); // frees the slot now, even if the body has not stopped yet
    }

    private void heartbeat() {
        for (InFlight entry : held.values()) {
            InFlight.State s = entry.state.get();
            if (s != InFlight.State.PREFETCHED && s != InFlight.State.RUNNING) {
                continue;
            }
            try {
                if (!broker.extend(entry.delivery, config.visibility())) {
                    metrics.lostReservations.increment();
                    if (entry.move(InFlight.State.PREFETCHED, InFlight.State.LOST)) {
                        finish(entry);
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "heartbeat of " + entry.id() + " failed", e);
            }
        }
    }

    private void pollRevocations() {
        if (held.isEmpty()) {
            return;
        }
        try {
            Set<String> revoked = broker.revokedAmong(List.copyOf(held.keySet()));
            for (String id : revoked) {
                InFlight entry = held.get(id);
                if (entry == null) {
                    continue;
                }
                entry.revoked = true;
                if (entry.move(InFlight.State.PREFETCHED, InFlight.State.REVOKED)) {
                    settle(entry, new Settlement.Revoked("revoked before it started"));
                    metrics.revoked.increment();
                    finish(entry);
                } else {
                    entry.interrupt();
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "revocation poll failed", e);
        }
    }

    // ---- shutdown ----

    /**
     * Stops gracefully: no more fetching; prefetched messages are given back at once (another worker may take
     * them); running tasks get until {@code deadline} to finish, then are interrupted and given back. Stops every
     * thread and child process the worker started. Blocks until done (at most about the deadline plus one fetch
     * wait and the pool's stop). Idempotent: later calls return the first one's report.
     */
    public ShutdownReport shutdown(Duration deadline) {
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.isNegative()) {
            throw new IllegalArgumentException("deadline must be >= 0, was " + deadline);
        }
        if (phase.compareAndSet(Phase.NEW, Phase.STOPPED)) {
            shutdownReport = new ShutdownReport(0, 0, 0, Duration.ZERO);
            return shutdownReport;
        }
        if (!phase.compareAndSet(Phase.RUNNING, Phase.STOPPING)) {
            synchronized (finishedSignal) {
                while (shutdownReport == null) {
                    try {
                        finishedSignal.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted waiting for another shutdown", e);
                    }
                }
            }
            return shutdownReport;
        }
        long began = System.nanoTime();
        long until = began + deadline.toNanos();
        fetching = false;
        joinQuietly(fetcher); // it sees the flag within one fetchWait

        dispatcher.interrupt();
        joinQuietly(dispatcher);
        // Counted before anything is given back: with the dispatcher stopped no task starts any more, and a task
        // that finishes while the prefetched ones are being released still counts as finished in flight.
        int runningAtStop = (int) held.values().stream().filter(e -> e.state.get() == InFlight.State.RUNNING)
                .count();

        int releasedPrefetched = 0;
        for (InFlight entry : List.copyOf(held.values())) {
            if (entry.move(InFlight.State.PREFETCHED, InFlight.State.RELEASED)) {
                safeSettle(entry, new Settlement.Release());
                metrics.released.increment();
                finish(entry);
                releasedPrefetched++;
            }
        }
        synchronized (finishedSignal) {
            while (!held.isEmpty() && System.nanoTime() < until) {
                long left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
                try {
                    finishedSignal.wait(Math.max(1, left));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        int releasedRunning = 0;
        for (InFlight entry : List.copyOf(held.values())) {
            if (entry.move(InFlight.State.RUNNING, InFlight.State.RELEASED)) {
                entry.cancelTimers();
                entry.interrupt();
                safeSettle(entry, new Settlement.Release());
                metrics.released.increment();
                finish(entry);
                releasedRunning++;
            }
        }
        timer.shutdownNow();
        bodies.shutdownNow();
        if (processPool != null) {
            processPool.terminate();
        }
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
            bodies.awaitTermination(5, TimeUnit.SECONDS);
            if (processPool != null) {
                processPool.awaitTermination(Duration.ofSeconds(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        recorder.stop(); // after every settlement above: they are all written when shutdown returns
        phase.set(Phase.STOPPED);
        ShutdownReport report = new ShutdownReport(releasedPrefetched, Math.max(0, runningAtStop - releasedRunning),
                releasedRunning, Duration.ofNanos(System.nanoTime() - began));
        synchronized (finishedSignal) {
            shutdownReport = report;
            finishedSignal.notifyAll();
        }
        return report;
    }

    private void safeSettle(InFlight entry, Settlement settlement) {
        try {
            settle(entry, settlement);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "give-back of " + entry.id() + " failed; it will be redelivered", e);
        }
    }

    /** {@link #shutdown} with a 5 s deadline. */
    @Override
    public void close() {
        shutdown(CLOSE_DEADLINE);
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
