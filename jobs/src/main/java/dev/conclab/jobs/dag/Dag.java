package dev.conclab.jobs.dag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.dag.cron.CronSchedule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A DAG: tasks with dependencies, an optional cron schedule, and the limits and defaults of its runs. Immutable and
 * thread-safe; built with {@link #builder} or loaded by {@link dev.conclab.jobs.dag.yaml.DagFileLoader}. Building
 * checks that every upstream id exists, that there is no cycle (the error names it), and that every
 * {@code params.NAME} placeholder of a task has a default.
 *
 * <p>Schedules follow Airflow: the run for the interval {@code [start, end)} between two fire times is created once
 * {@code end} has passed, and its logical date is {@code start}. With {@code catchup} the scheduler creates a run for
 * every complete interval since {@code startDate} (or since the last scheduled run); without it, only the latest.
 *
 * @param id             the DAG id ({@code [A-Za-z0-9_.-]+})
 * @param tasks          the tasks in a topological order
 * @param schedule       the cron schedule, or empty for a DAG that runs only when triggered or backfilled
 * @param zone           the zone the schedule and {@code {{ ds }}} are read in
 * @param startDate      the first instant an interval may start at ({@link Instant#EPOCH} for "not set"; a
 *                       scheduled DAG with catch-up must set it)
 * @param catchup        whether missed intervals are run when the scheduler (re)starts
 * @param maxActiveRuns  runs of this DAG RUNNING at once (1..10,000)
 * @param maxActiveTasks task instances of this DAG QUEUED or RUNNING at once, over all its runs (1..100,000)
 * @param defaultParams  run parameters and their defaults (a trigger may override them)
 */
public record Dag(
        String id,
        List<DagTask> tasks,
        Optional<CronSchedule> schedule,
        ZoneId zone,
        Instant startDate,
        boolean catchup,
        int maxActiveRuns,
        int maxActiveTasks,
        Map<String, JsonNode> defaultParams) {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.\\-]+");

    public Dag {
        Objects.requireNonNull(id, "dag id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("dag id '" + id + "' must match " + ID.pattern());
        }
        Objects.requireNonNull(tasks, "tasks of dag " + id);
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("dag " + id + " has no tasks");
        }
        Objects.requireNonNull(schedule, "schedule of dag " + id);
        Objects.requireNonNull(zone, "zone of dag " + id);
        Objects.requireNonNull(startDate, "start date of dag " + id);
        if (maxActiveRuns < 1 || maxActiveRuns > 10_000) {
            throw new IllegalArgumentException("dag " + id + ": max active runs must be 1..10000, was "
                    + maxActiveRuns);
        }
        if (maxActiveTasks < 1 || maxActiveTasks > 100_000) {
            throw new IllegalArgumentException("dag " + id + ": max active tasks must be 1..100000, was "
                    + maxActiveTasks);
        }
        if (catchup && schedule.isPresent() && startDate.equals(Instant.EPOCH)) {
            // Catch-up from the default start date would create a run for every interval since 1970.
            throw new IllegalArgumentException("dag " + id + ": catchup needs a start date");
        }
        defaultParams = Map.copyOf(Objects.requireNonNull(defaultParams, "default params of dag " + id));
        Map<String, DagTask> byId = new LinkedHashMap<>();
        for (DagTask task : tasks) {
            if (byId.put(task.id(), task) != null) {
                throw new IllegalArgumentException("dag " + id + ": task id '" + task.id() + "' is used twice");
            }
            for (String param : task.args().paramNames()) {
                if (!defaultParams.containsKey(param)) {
                    throw new IllegalArgumentException("dag " + id + ": task " + task.id() + " uses {{ params."
                            + param + " }} but the dag has no default for it");
                }
            }
        }
        tasks = List.copyOf(DagGraph.topologicalOrder(id, byId));
    }

    /** The task with this id. */
    public Optional<DagTask> task(String taskId) {
        return tasks.stream().filter(t -> t.id().equals(taskId)).findFirst();
    }

    /** The ids of the tasks no other task waits for: the run's outcome is theirs. */
    public List<String> leaves() {
        Map<String, DagTask> byId = new LinkedHashMap<>();
        tasks.forEach(t -> byId.put(t.id(), t));
        List<String> leaves = new ArrayList<>();
        DagGraph.downstream(byId).forEach((taskId, down) -> {
            if (down.isEmpty()) {
                leaves.add(taskId);
            }
        });
        return leaves;
    }

    /** A builder for a DAG with this id. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    /**
     * Builds a {@link Dag}. Defaults: no schedule, UTC, start date the epoch, catchup off (Airflow 3's default),
     * 16 max active runs and 16 max active tasks (Airflow's
     * defaults), no params. Not thread-safe.
     */
    public static final class Builder {
        private static final ObjectMapper JSON = new ObjectMapper();

        private final String id;
        private final List<DagTask> tasks = new ArrayList<>();
        private CronSchedule schedule;
        private ZoneId zone = ZoneOffset.UTC;
        private Instant startDate = Instant.EPOCH;
        private boolean catchup;
        private int maxActiveRuns = 16;
        private int maxActiveTasks = 16;
        private final Map<String, JsonNode> params = new LinkedHashMap<>();

        private Builder(String id) {
            this.id = id;
        }

        /** A cron expression (5 fields or a macro). */
        public Builder schedule(String cron) {
            this.schedule = CronSchedule.parse(cron);
            return this;
        }

        public Builder zone(ZoneId zone) {
            this.zone = zone;
            return this;
        }

        public Builder startDate(Instant startDate) {
            this.startDate = startDate;
            return this;
        }

        public Builder catchup(boolean catchup) {
            this.catchup = catchup;
            return this;
        }

        public Builder maxActiveRuns(int maxActiveRuns) {
            this.maxActiveRuns = maxActiveRuns;
            return this;
        }

        public Builder maxActiveTasks(int maxActiveTasks) {
            this.maxActiveTasks = maxActiveTasks;
            return this;
        }

        /** A run parameter's default; {@code value} is converted to JSON (a String, Number, Boolean, List, Map). */
        public Builder param(String name, Object value) {
            params.put(Objects.requireNonNull(name, "param name"), JSON.valueToTree(value));
            return this;
        }

        /** Adds a finished task. */
        public Builder task(DagTask task) {
            tasks.add(task);
            return this;
        }

        /** Starts a task that runs the registered queue task {@code taskName}; {@link TaskBuilder#add} ends it. */
        public TaskBuilder task(String taskId, String taskName) {
            return new TaskBuilder(this, taskId, taskName);
        }

        /** Builds the DAG, checking it (see {@link Dag}). */
        public Dag build() {
            return new Dag(id, tasks, Optional.ofNullable(schedule), zone, startDate, catchup, maxActiveRuns,
                    maxActiveTasks, params);
        }
    }

    /** Builds one {@link DagTask} inside a {@link Builder}. Not thread-safe. */
    public static final class TaskBuilder {
        private final Builder dag;
        private final String id;
        private final String taskName;
        private ArgsTemplate args = ArgsTemplate.empty();
        private final List<String> upstream = new ArrayList<>();
        private int retries;
        private Duration retryDelay = Duration.ZERO;
        private Duration executionTimeout = Duration.ZERO;
        private TriggerRule triggerRule = TriggerRule.ALL_SUCCESS;

        private TaskBuilder(Builder dag, String id, String taskName) {
            this.dag = dag;
            this.id = id;
            this.taskName = taskName;
        }

        /** The arguments as a JSON array template. */
        public TaskBuilder args(String json) {
            this.args = ArgsTemplate.parse(json);
            return this;
        }

        public TaskBuilder after(String... upstreamIds) {
            upstream.addAll(Arrays.asList(upstreamIds));
            return this;
        }

        public TaskBuilder retries(int retries, Duration delay) {
            this.retries = retries;
            this.retryDelay = delay;
            return this;
        }

        public TaskBuilder executionTimeout(Duration timeout) {
            this.executionTimeout = timeout;
            return this;
        }

        public TaskBuilder triggerRule(TriggerRule rule) {
            this.triggerRule = rule;
            return this;
        }

        /** Adds the task to its DAG builder. */
        public Builder add() {
            return dag.task(new DagTask(id, taskName, args, upstream, retries, retryDelay, executionTimeout,
                    triggerRule));
        }
    }
}
