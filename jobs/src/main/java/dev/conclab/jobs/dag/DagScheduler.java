package dev.conclab.jobs.dag;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.store.TaskInstance;
import dev.conclab.jobs.dag.store.TaskTry;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The scheduler loop: creates DAG runs when due, moves task instances through their states, and dispatches ready
 * ones to the task queue — only through the {@link Broker} seam (it enqueues {@link TaskMessage}s and reads
 * {@link TaskRecord}s; it never runs a task). Its state lives in a {@link DagStore}, so a restarted scheduler
 * resumes every run where it was, instead of restarting it.
 *
 * <p><b>One round</b> ({@link #runOnce}), per DAG: create the scheduled runs that are due (logical date = start of
 * the data interval; every missed interval with catch-up, else the latest); promote QUEUED runs to RUNNING up to
 * max active runs, oldest first; read the queue records of QUEUED/RUNNING instances (RECEIVED/STARTED → RUNNING,
 * SUCCESS → SUCCESS, FAILURE/REVOKED → UP_FOR_RETRY after the retry delay while DAG-level retries remain, else
 * FAILED; PENDING again after RUNNING, a message a stopping worker released, → QUEUED); apply trigger rules (SCHEDULED, SKIPPED, UPSTREAM_FAILED); dispatch SCHEDULED instances up to max active
 * tasks; end runs whose instances are all final (FAILED if a leaf failed or upstream-failed, else SUCCESS).
 *
 * <p><b>Never dispatched twice.</b> A try's queue task id and idempotency key are functions of (run, task, try)
 * ({@link DispatchIds}). The instance is persisted QUEUED with that id <em>before</em> the message is enqueued; a
 * scheduler that dies in between finds a QUEUED instance whose queue task the broker does not know, and enqueues the
 * same message again; one that dies after finds the record and sends nothing. Runs are keyed by run id, so creating
 * a due run twice is a no-op.
 *
 * <p><b>Two layers of retries.</b> {@link DagTask#retries()} are the DAG's: each try is a new queue task, dispatched
 * after the retry delay and visible here as UP_FOR_RETRY. The queue's own retries (back-off, dead letters) act
 * inside one try; the scheduler enqueues with {@code maxRetries = 0}, so a failing try fails at once and the DAG's
 * policy decides. A worker crash is neither: the queue redelivers the same try (at least once) and the DAG sees one
 * try.
 *
 * <p><b>Threads and blocking.</b> {@link #start} runs rounds on one platform thread named {@code dag-scheduler},
 * sleeping the poll interval between rounds (or less, after {@link #wakeUp}); {@link #close} stops it and waits for
 * the round in progress. All public methods are thread-safe; rounds, triggers and backfills are serialized on this
 * object. Each does bounded round trips to the store and broker and never waits for a task to finish. The broker and
 * the store belong to the caller, who closes them after this scheduler.
 */
public final class DagScheduler implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Broker broker;
    private final DagStore store;
    private final Clock clock;
    private final SchedulerConfig config;
    private final Map<String, DagShape> dags = new LinkedHashMap<>();
    private final Object signal = new Object();
    private boolean woken;
    private volatile boolean running;
    private volatile RuntimeException lastError;
    private Thread loop;
    private long rounds;
    private long roundNanos;
    private long maxRoundNanos;
    private long dispatched;

    /**
     * A scheduler of these DAGs over this broker and store.
     *
     * @throws IllegalArgumentException if two DAGs share an id
     */
    public DagScheduler(Broker broker, DagStore store, Clock clock, Collection<Dag> dags, SchedulerConfig config) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.config = Objects.requireNonNull(config, "config");
        for (Dag dag : Objects.requireNonNull(dags, "dags")) {
            if (this.dags.put(dag.id(), DagShape.of(dag)) != null) {
                throw new IllegalArgumentException("two DAGs have the id '" + dag.id() + "'");
            }
        }
    }

    /** The DAGs it schedules, in the order given. */
    public List<Dag> dags() {
        return dags.values().stream().map(DagShape::dag).toList();
    }

    /** One round over every DAG (see the class comment). Returns when the round is done. */
    public synchronized void runOnce() {
        long t0 = System.nanoTime();
        long now = clock.millis();
        try {
            for (DagShape shape : dags.values()) {
                createDueRuns(shape.dag(), now);
                promoteQueued(shape.dag(), now);
                advance(shape, now);
            }
        } finally {
            long took = System.nanoTime() - t0;
            rounds++;
            roundNanos += took;
            maxRoundNanos = Math.max(maxRoundNanos, took);
        }
    }

    /**
     * What the rounds cost so far, for measuring the scheduler's own overhead.
     *
     * @param rounds         rounds run (by the loop and by {@link #runOnce})
     * @param meanRoundNanos their mean duration
     * @param maxRoundNanos  the longest
     * @param dispatched     task tries enqueued (re-sends after a crash not counted)
     */
    public record Stats(long rounds, long meanRoundNanos, long maxRoundNanos, long dispatched) {
    }

    /** A snapshot of {@link Stats}. */
    public synchronized Stats stats() {
        return new Stats(rounds, rounds == 0 ? 0 : roundNanos / rounds, maxRoundNanos, dispatched);
    }

    /**
     * Creates a manual run now, with the DAG's default params overridden by {@code params}; it is dispatched by the
     * next rounds.
     *
     * @throws IllegalArgumentException if the DAG is unknown
     */
    public synchronized DagRun trigger(String dagId, Map<String, ?> params) {
        Dag dag = dag(dagId);
        Objects.requireNonNull(params, "params");
        ObjectNode merged = JSON.createObjectNode();
        dag.defaultParams().forEach(merged::set);
        params.forEach((k, v) -> merged.set(Objects.requireNonNull(k, "param name"), JSON.valueToTree(v)));
        Instant now = clock.instant();
        String base = dag.id() + "/" + RunType.MANUAL.prefix() + "__" + now;
        for (int n = 1; ; n++) {
            String runId = n == 1 ? base : base + "-" + n;
            DagRun run = new DagRun(runId, dag.id(), RunType.MANUAL, now, DagRunState.QUEUED, merged.toString(),
                    now.toEpochMilli(), 0, 0);
            if (store.createRun(run, taskIds(dag))) {
                wakeUp();
                return run;
            }
        }
    }

    /**
     * Creates a BACKFILL run for every interval start {@code s} with {@code from <= s <= to} that has no run yet
     * (of any type); they run under max active runs like the others.
     *
     * @return the runs created, oldest first
     * @throws IllegalArgumentException if the DAG is unknown or has no schedule, or {@code to} is before {@code from}
     */
    public synchronized List<DagRun> backfill(String dagId, Instant from, Instant to) {
        Dag dag = dag(dagId);
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        List<DagRun> created = new ArrayList<>();
        for (Instant logical : RunPlanner.between(dag, from, to)) {
            if (!store.hasRunAt(dag.id(), logical)) {
                DagRun run = newRun(dag, RunType.BACKFILL, logical, clock.millis());
                if (store.createRun(run, taskIds(dag))) {
                    created.add(run);
                }
            }
        }
        wakeUp();
        return created;
    }

    /** The DAG's runs, oldest logical date first (from the store: a snapshot). */
    public List<DagRun> runs(String dagId) {
        return store.runs(dag(dagId).id());
    }

    /** The run with this id (a snapshot from the store). */
    public Optional<DagRun> run(String runId) {
        return store.run(Objects.requireNonNull(runId, "runId"));
    }

    /** The task instances of a run, in the DAG's topological order. */
    public List<TaskInstance> instances(String runId) {
        DagRun run = store.run(runId).orElseThrow(() -> new IllegalArgumentException("unknown run '" + runId + "'"));
        Map<String, TaskInstance> byTask = new HashMap<>();
        store.instances(runId).forEach(ti -> byTask.put(ti.taskId(), ti));
        DagShape shape = dags.get(run.dagId());
        if (shape == null) {
            return List.copyOf(byTask.values());
        }
        return shape.dag().tasks().stream().map(t -> byTask.get(t.id())).filter(Objects::nonNull).toList();
    }

    /** Starts the loop thread. */
    public synchronized void start() {
        if (loop != null) {
            throw new IllegalStateException("the scheduler was already started");
        }
        running = true;
        loop = Thread.ofPlatform().name("dag-scheduler").start(this::loop);
    }

    /** Makes the loop run its next round now instead of after the poll interval. */
    public void wakeUp() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    /** The last exception a loop round threw (the loop goes on after one), or null. */
    public RuntimeException lastError() {
        return lastError;
    }

    /** Stops the loop thread after its current round; waits for it. Idempotent; does not close broker or store. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            t = loop;
            running = false;
        }
        wakeUp();
        if (t != null) {
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        while (running) {
            try {
                runOnce();
            } catch (RuntimeException e) {
                lastError = e; // a broker or store hiccup: the next round retries from the persisted state
            }
            synchronized (signal) {
                long deadline = System.nanoTime() + config.pollInterval().toNanos();
                while (!woken && running) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        signal.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                woken = false;
            }
        }
    }

    private Dag dag(String dagId) {
        Objects.requireNonNull(dagId, "dagId");
        DagShape shape = dags.get(dagId);
        if (shape == null) {
            throw new IllegalArgumentException("unknown dag '" + dagId + "' (known: " + dags.keySet() + ")");
        }
        return shape.dag();
    }

    private static List<String> taskIds(Dag dag) {
        return dag.tasks().stream().map(DagTask::id).toList();
    }

    private static DagRun newRun(Dag dag, RunType type, Instant logical, long now) {
        ObjectNode params = JSON.createObjectNode();
        dag.defaultParams().forEach(params::set);
        return new DagRun(dag.id() + "/" + type.prefix() + "__" + logical, dag.id(), type, logical,
                DagRunState.QUEUED, params.toString(), now, 0, 0);
    }

    private void createDueRuns(Dag dag, long now) {
        for (Instant logical : RunPlanner.due(dag, store.latestScheduled(dag.id()), Instant.ofEpochMilli(now))) {
            store.createRun(newRun(dag, RunType.SCHEDULED, logical, now), taskIds(dag));
        }
    }

    private void promoteQueued(Dag dag, long now) {
        int active = store.runs(dag.id(), DagRunState.RUNNING).size();
        for (DagRun run : store.runs(dag.id(), DagRunState.QUEUED)) {
            if (active >= dag.maxActiveRuns()) {
                return;
            }
            store.updateRun(run.runId(), DagRunState.RUNNING, now, 0);
            active++;
        }
    }

    private void advance(DagShape shape, long now) {
        Dag dag = shape.dag();
        List<DagRun> runs = store.runs(dag.id(), DagRunState.RUNNING);
        if (runs.isEmpty()) {
            return;
        }
        Map<String, RunAdvancer> advancers = new LinkedHashMap<>();
        Map<String, TaskInstance> activeByQueueId = new LinkedHashMap<>();
        for (DagRun run : runs) {
            Map<String, TaskInstance> instances = new HashMap<>();
            for (TaskInstance ti : store.instances(run.runId())) {
                instances.put(ti.taskId(), ti);
                if (ti.state().isActive()) {
                    activeByQueueId.put(ti.queueTaskId(), ti);
                }
            }
            advancers.put(run.runId(), new RunAdvancer(shape, instances));
        }

        // What the queue says about the current try of every active instance.
        Map<String, TaskRecord> records = new HashMap<>();
        for (TaskRecord rec : broker.records(activeByQueueId.keySet())) {
            records.put(rec.id(), rec);
        }
        Map<String, DagRun> runById = new HashMap<>();
        runs.forEach(r -> runById.put(r.runId(), r));
        Map<String, Map<String, JsonNode>> paramsByRun = new HashMap<>();
        List<TaskMessage> resend = new ArrayList<>();
        for (TaskInstance ti : activeByQueueId.values()) {
            TaskRecord rec = records.get(ti.queueTaskId());
            if (rec == null) {
                // Persisted QUEUED but never enqueued (the last scheduler died in between): send the same message.
                DagRun run = runById.get(ti.runId());
                resend.add(message(shape, run, paramsByRun.computeIfAbsent(run.runId(), k -> params(run)),
                        ti.taskId(), ti.tryNumber(), now));
            } else {
                advancers.get(ti.runId()).sync(ti, rec, now);
            }
        }

        int activeTasks = 0;
        for (RunAdvancer a : advancers.values()) {
            a.retryDue(now);
            a.applyTriggerRules(now);
            activeTasks += (int) a.instances().values().stream().filter(ti -> ti.state().isActive()).count();
        }

        // Dispatch: oldest run first, topological order within a run, up to max active tasks.
        List<TaskMessage> dispatch = new ArrayList<>();
        for (DagRun run : runs) {
            RunAdvancer a = advancers.get(run.runId());
            for (DagTask task : dag.tasks()) {
                if (activeTasks >= dag.maxActiveTasks()) {
                    break;
                }
                TaskInstance ti = a.instances().get(task.id());
                if (ti.state() != TaskInstanceState.SCHEDULED) {
                    continue;
                }
                int tryNumber = ti.tryNumber() + 1;
                TaskMessage message;
                try {
                    message = message(shape, run, paramsByRun.computeIfAbsent(run.runId(), k -> params(run)),
                            task.id(), tryNumber, now);
                } catch (IllegalArgumentException e) {
                    a.put(new TaskInstance(ti.runId(), ti.taskId(), TaskInstanceState.FAILED, tryNumber, null, 0, 0,
                            now, null, e.getMessage()));
                    continue;
                }
                a.put(new TaskInstance(ti.runId(), ti.taskId(), TaskInstanceState.QUEUED, tryNumber, message.id(), 0,
                        0, 0, null, ti.error()));
                dispatch.add(message);
                activeTasks++;
            }
        }

        // Persist first, then enqueue: see "Never dispatched twice" in the class comment.
        List<TaskInstance> changed = new ArrayList<>();
        List<TaskTry> tries = new ArrayList<>();
        for (RunAdvancer a : advancers.values()) {
            changed.addAll(a.changed());
            tries.addAll(a.tries());
        }
        store.save(changed, tries);
        resend.addAll(dispatch);
        if (!resend.isEmpty()) {
            broker.enqueueAll(resend);
        }
        dispatched += dispatch.size();

        for (DagRun run : runs) {
            DagRunState outcome = advancers.get(run.runId()).outcome();
            if (outcome.isFinal()) {
                store.updateRun(run.runId(), outcome, 0, now);
            }
        }
    }

    private static Map<String, JsonNode> params(DagRun run) {
        Map<String, JsonNode> params = new HashMap<>();
        try {
            JSON.readTree(run.paramsJson()).properties().forEach(e -> params.put(e.getKey(), e.getValue()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("run " + run.runId() + " has unreadable params: " + e.getMessage(), e);
        }
        return params;
    }

    /** The message of one try: deterministic apart from its submission time. */
    private TaskMessage message(DagShape shape, DagRun run, Map<String, JsonNode> params, String taskId,
                                int tryNumber, long now) {
        Dag dag = shape.dag();
        DagTask task = shape.byId().get(taskId);
        String ds = LocalDate.ofInstant(run.logicalDate(), dag.zone()).toString();
        String args = task.args().render(new ArgsTemplate.Context(dag.id(), run.runId(), taskId, tryNumber, ds,
                run.logicalDate().toString(), params));
        return new TaskMessage(DispatchIds.queueTaskId(run.runId(), taskId, tryNumber), task.taskName(), args,
                config.queue(), 0, 0, 0, 0, DispatchIds.idempotencyKey(run.runId(), taskId, tryNumber), 0,
                task.executionTimeout().toMillis(), null, null, null, null, now);
    }
}
