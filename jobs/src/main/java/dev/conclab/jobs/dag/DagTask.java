package dev.conclab.jobs.dag;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One task of a {@link Dag}: which registered queue task it runs, with which arguments, after which upstream tasks,
 * and how often it may be retried. Immutable and thread-safe.
 *
 * <p><b>Two layers of retries.</b> {@code retries} are DAG-level: each try is a new queue task (a new id), and the
 * scheduler dispatches the next one after {@code retryDelay}, moving the instance through
 * {@link TaskInstanceState#UP_FOR_RETRY}. The queue's own retries ({@code TaskMessage.maxRetries}, with its
 * back-off and dead-letter queue) happen inside one try; the scheduler sets them to 0 so a failure is seen here.
 *
 * @param id               the task id, unique in its DAG ({@code [A-Za-z0-9_.-]+})
 * @param taskName         the registered queue task it runs
 * @param args             the arguments, a JSON array template (see {@link ArgsTemplate})
 * @param upstream         the ids of the tasks it waits for
 * @param retries          DAG-level retries after the first try (0..100)
 * @param retryDelay       the wait before a retry
 * @param executionTimeout {@link Duration#ZERO} for none, else the run time after which the worker abandons a try
 *                         (the queue's hard limit) and the try fails
 * @param triggerRule      when it may run, from its upstream tasks' states
 */
public record DagTask(
        String id,
        String taskName,
        ArgsTemplate args,
        List<String> upstream,
        int retries,
        Duration retryDelay,
        Duration executionTimeout,
        TriggerRule triggerRule) {

    static final Pattern ID = Pattern.compile("[A-Za-z0-9_.\\-]+");

    public DagTask {
        Objects.requireNonNull(id, "task id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("task id '" + id + "' must match " + ID.pattern());
        }
        Objects.requireNonNull(taskName, "task name of " + id);
        if (taskName.isBlank()) {
            throw new IllegalArgumentException("task " + id + ": task name is blank");
        }
        Objects.requireNonNull(args, "args of " + id);
        upstream = List.copyOf(Objects.requireNonNull(upstream, "upstream of " + id));
        if (upstream.contains(id)) {
            throw new IllegalArgumentException("task " + id + " lists itself upstream (cycle: " + id + " -> " + id
                    + ")");
        }
        if (upstream.stream().distinct().count() != upstream.size()) {
            throw new IllegalArgumentException("task " + id + " lists an upstream task twice: " + upstream);
        }
        if (retries < 0 || retries > 100) {
            throw new IllegalArgumentException("task " + id + ": retries must be 0..100, was " + retries);
        }
        Objects.requireNonNull(retryDelay, "retry delay of " + id);
        Objects.requireNonNull(executionTimeout, "execution timeout of " + id);
        if (retryDelay.isNegative() || executionTimeout.isNegative()) {
            throw new IllegalArgumentException("task " + id + ": retry delay and execution timeout must be >= 0");
        }
        Objects.requireNonNull(triggerRule, "trigger rule of " + id);
    }

    /** A task with no upstream, no retries, no timeout, {@code all_success}. */
    public static DagTask of(String id, String taskName, String argsJson) {
        return new DagTask(id, taskName, ArgsTemplate.parse(argsJson), List.of(), 0, Duration.ZERO, Duration.ZERO,
                TriggerRule.ALL_SUCCESS);
    }
}
