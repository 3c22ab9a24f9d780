package dev.conclab.lab.jobs;

import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.TaskInstance;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One DAG run as {@code ./conclab jobs runs DAG} prints it and the web lab lists it: its state, its task
 * instances and how many are in each state. States are lower case, as the CLI prints them; times are ISO-8601
 * instants, {@code null} when not reached. A snapshot; immutable.
 *
 * @param taskStates how many task instances are in each state, by state name (sorted)
 * @param tasks      the task instances, in the order given to {@link #of}
 */
public record DagRunView(String runId, String dagId, String type, String state, String logicalDate, String created,
                         String started, String ended, Map<String, Long> taskStates, List<TaskView> tasks) {

    public DagRunView {
        taskStates = Collections.unmodifiableMap(new TreeMap<>(taskStates));
        tasks = List.copyOf(tasks);
    }

    /** One task instance of the run. */
    public record TaskView(String taskId, String state, int tryNumber, String worker, String error, String started,
                           String ended) {
    }

    /** The view of {@code run} with its {@code instances}, kept in the order given. */
    public static DagRunView of(DagRun run, List<TaskInstance> instances) {
        Map<String, Long> states = instances.stream().collect(Collectors.groupingBy(ti -> lower(ti.state()),
                TreeMap::new, Collectors.counting()));
        List<TaskView> tasks = instances.stream().map(ti -> new TaskView(ti.taskId(), lower(ti.state()),
                ti.tryNumber(), ti.worker(), ti.error(), instant(ti.startMillis()), instant(ti.endMillis()))).toList();
        return new DagRunView(run.runId(), run.dagId(), lower(run.type()), lower(run.state()),
                run.logicalDate().toString(), instant(run.createdMillis()), instant(run.startMillis()),
                instant(run.endMillis()), states, tasks);
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    private static String instant(long millis) {
        return millis <= 0 ? null : Instant.ofEpochMilli(millis).toString();
    }
}
