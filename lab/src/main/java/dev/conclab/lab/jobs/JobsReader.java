package dev.conclab.lab.jobs;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.DagTask;
import dev.conclab.jobs.dag.GanttTrace;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.store.TaskInstance;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the jobs system's stores for the web lab: the broker's inspection, the DAGs with their runs, one run's Gantt
 * trace. It never starts, submits, schedules or changes anything, and it never creates a store: a SQLite file that
 * does not exist yet gives an empty view with a hint instead (opening one would create it).
 *
 * <p>Each call opens the store it reads, reads it and closes it, as a CLI command does, so a store created after
 * the reader (the first {@code jobs worker}) is found by the next call. <b>Thread safety:</b> immutable and safe for
 * concurrent use; calls block for a few bounded reads of SQLite (or round trips to Redis).
 */
public final class JobsReader {

    /** At most this many DAGs known only from the store are listed (the newest runs' DAGs). */
    public static final int MAX_UNDEFINED_DAGS = 50;

    private final JobsStores stores;

    public JobsReader(JobsStores stores) {
        this.stores = Objects.requireNonNull(stores, "stores");
    }

    public JobsStores stores() {
        return stores;
    }

    /**
     * What {@code jobs inspect} shows, with at most {@code deadLetters} dead letters; empty with
     * {@link JobsInspection#START_WORKER} when the broker's SQLite file does not exist.
     *
     * @throws RuntimeException from the broker when it cannot be opened or read (a Redis server that is down)
     */
    public JobsInspection inspect(int deadLetters) {
        if (stores.brokerFile().filter(f -> !Files.exists(f)).isPresent()) {
            return JobsInspection.empty(stores.brokerUrl(), JobsInspection.START_WORKER);
        }
        try (Broker broker = Brokers.open(stores.brokerUrl())) {
            return JobsInspection.of(broker, stores.brokerUrl(), deadLetters);
        }
    }

    /**
     * The DAGs of {@link JobsStores#dags()} with their newest {@code runsPerDag} runs each (newest logical date
     * first), then the DAGs that have runs in the store but no definition (marked
     * {@link DagsOverview#DEFINITION_NOT_FOUND}; the one with the newest run first, at most
     * {@link #MAX_UNDEFINED_DAGS}); every defined DAG with no runs and {@link DagsOverview#TRIGGER_A_RUN} when the
     * DAG store does not exist.
     *
     * @throws IllegalArgumentException if the DAG definitions cannot be loaded
     */
    public DagsOverview dags(int runsPerDag) {
        if (runsPerDag < 0) {
            throw new IllegalArgumentException("runsPerDag must be >= 0, got " + runsPerDag);
        }
        List<Dag> dags = stores.dags();
        String storeName = stores.dagStore().toString();
        if (!Files.exists(stores.dagStore())) {
            return new DagsOverview(storeName, dags.stream().map(d -> summary(d, List.of(), List.of())).toList(),
                    DagsOverview.TRIGGER_A_RUN);
        }
        try (DagStore store = DagStore.open(stores.dagStore())) {
            List<DagsOverview.DagSummary> summaries = new ArrayList<>();
            Set<String> defined = new HashSet<>();
            for (Dag dag : dags) {
                defined.add(dag.id());
                List<DagRun> runs = newestFirst(store.runs(dag.id()));
                List<DagRunView> newest = runs.stream().limit(runsPerDag)
                        .map(run -> DagRunView.of(run, inDagOrder(dag, store.instances(run.runId())))).toList();
                summaries.add(summary(dag, runs, newest));
            }
            List<String> undefined = store.dagIds(MAX_UNDEFINED_DAGS + defined.size()).stream()
                    .filter(id -> !defined.contains(id)).limit(MAX_UNDEFINED_DAGS).toList();
            for (String id : undefined) {
                summaries.add(undefinedSummary(store, id, runsPerDag));
            }
            return new DagsOverview(storeName, summaries, null);
        }
    }

    /**
     * The run's Gantt chart as Chrome Trace Event JSON, exactly as {@code jobs trace RUN_ID} writes it (tries still
     * running end at {@code nowMillis}); empty when the store or the run does not exist.
     */
    public Optional<String> trace(String runId, long nowMillis) {
        Objects.requireNonNull(runId, "runId");
        if (!Files.exists(stores.dagStore())) {
            return Optional.empty();
        }
        try (DagStore store = DagStore.open(stores.dagStore())) {
            return store.run(runId).map(run -> GanttTrace.of(run, store.tries(runId), nowMillis));
        }
    }

    private static DagsOverview.DagSummary summary(Dag dag, List<DagRun> all, List<DagRunView> newest) {
        return new DagsOverview.DagSummary(dag.id(), dag.schedule().map(Object::toString).orElse(null),
                dag.tasks().stream().map(DagTask::id).toList(), all.size(), newest, null);
    }

    /** A DAG known only from its runs: no schedule, the task ids of its newest run, instances by task id. */
    private static DagsOverview.DagSummary undefinedSummary(DagStore store, String dagId, int runsPerDag) {
        List<DagRun> runs = newestFirst(store.runs(dagId));
        List<DagRunView> newest = runs.stream().limit(runsPerDag).map(run -> DagRunView.of(run,
                store.instances(run.runId()).stream().sorted(Comparator.comparing(TaskInstance::taskId)).toList()))
                .toList();
        List<String> tasks = runs.isEmpty() ? List.of() : store.instances(runs.getFirst().runId()).stream()
                .map(TaskInstance::taskId).sorted().toList();
        return new DagsOverview.DagSummary(dagId, null, tasks, runs.size(), newest,
                DagsOverview.DEFINITION_NOT_FOUND);
    }

    private static List<DagRun> newestFirst(List<DagRun> runs) {
        List<DagRun> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparing(DagRun::logicalDate).thenComparingLong(DagRun::createdMillis)
                .thenComparing(DagRun::runId).reversed());
        return sorted;
    }

    /** The instances in the DAG's declaration order (the store gives them in none); unknown ones last. */
    private static List<TaskInstance> inDagOrder(Dag dag, List<TaskInstance> instances) {
        Map<String, Integer> order = new HashMap<>();
        dag.tasks().forEach(t -> order.put(t.id(), order.size()));
        List<TaskInstance> sorted = new ArrayList<>(instances);
        sorted.sort(Comparator.comparingInt((TaskInstance ti) -> order.getOrDefault(ti.taskId(), Integer.MAX_VALUE))
                .thenComparing(TaskInstance::taskId));
        return sorted;
    }
}
