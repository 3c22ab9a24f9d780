package dev.conclab.jobs.dag;

import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.dag.store.TaskInstance;
import dev.conclab.jobs.dag.store.TaskTry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves the task instances of one run forward from what the queue reports, without dispatching: QUEUED/RUNNING
 * from their queue tasks' records, UP_FOR_RETRY to SCHEDULED when the delay has passed, NONE by the trigger rules.
 * Works on a mutable map of the run's instances and remembers what it changed. Not thread-safe: one per run and
 * round, on the scheduler's thread.
 */
final class RunAdvancer {

    private final DagShape shape;
    private final Map<String, TaskInstance> instances;
    private final Map<String, TaskInstance> changed = new LinkedHashMap<>();
    private final List<TaskTry> tries = new ArrayList<>();

    RunAdvancer(DagShape shape, Map<String, TaskInstance> instances) {
        this.shape = shape;
        this.instances = instances;
    }

    Map<String, TaskInstance> instances() {
        return instances;
    }

    List<TaskInstance> changed() {
        return List.copyOf(changed.values());
    }

    List<TaskTry> tries() {
        return tries;
    }

    void put(TaskInstance ti) {
        instances.put(ti.taskId(), ti);
        changed.put(ti.taskId(), ti);
    }

    /** Applies the queue's record of an active instance's current try (absent: nothing known yet). */
    void sync(TaskInstance ti, TaskRecord rec, long now) {
        DagTask task = shape.byId().get(ti.taskId());
        switch (rec.state()) {
            case PENDING, RETRY -> {
                if (ti.state() == TaskInstanceState.RUNNING) {
                    // The worker gave the message back unrun (graceful shutdown): queued again, same try.
                    put(new TaskInstance(ti.runId(), ti.taskId(), TaskInstanceState.QUEUED, ti.tryNumber(),
                            ti.queueTaskId(), 0, 0, 0, null, ti.error()));
                }
            }
            case RECEIVED, STARTED -> {
                long start = rec.startedMillis() > 0 ? rec.startedMillis() : now;
                if (ti.state() != TaskInstanceState.RUNNING || !same(ti.worker(), rec.worker())) {
                    put(new TaskInstance(ti.runId(), ti.taskId(), TaskInstanceState.RUNNING, ti.tryNumber(),
                            ti.queueTaskId(), 0, start, 0, rec.worker(), ti.error()));
                    tries.add(new TaskTry(ti.runId(), ti.taskId(), ti.tryNumber(), ti.queueTaskId(),
                            TaskInstanceState.RUNNING, start, 0, rec.worker()));
                }
            }
            case SUCCESS -> end(ti, rec, TaskInstanceState.SUCCESS, 0, null, now);
            case FAILURE, REVOKED -> {
                String error = rec.error() == null ? rec.state().name() : rec.error();
                if (ti.tryNumber() <= task.retries()) {
                    end(ti, rec, TaskInstanceState.UP_FOR_RETRY, now + task.retryDelay().toMillis(), error, now);
                } else {
                    end(ti, rec, TaskInstanceState.FAILED, 0, error, now);
                }
            }
        }
    }

    private void end(TaskInstance ti, TaskRecord rec, TaskInstanceState state, long notBefore, String error,
                     long now) {
        long end = rec.finishedMillis() > 0 ? rec.finishedMillis() : now;
        long start = rec.startedMillis() > 0 ? rec.startedMillis() : (ti.startMillis() > 0 ? ti.startMillis() : end);
        put(new TaskInstance(ti.runId(), ti.taskId(), state, ti.tryNumber(), ti.queueTaskId(), notBefore, start, end,
                rec.worker(), error));
        tries.add(new TaskTry(ti.runId(), ti.taskId(), ti.tryNumber(), ti.queueTaskId(), state, start, end,
                rec.worker()));
    }

    /** UP_FOR_RETRY instances whose delay has passed become SCHEDULED. */
    void retryDue(long now) {
        for (TaskInstance ti : List.copyOf(instances.values())) {
            if (ti.state() == TaskInstanceState.UP_FOR_RETRY && ti.notBeforeMillis() <= now) {
                put(ti.withState(TaskInstanceState.SCHEDULED));
            }
        }
    }

    /**
     * Applies the trigger rules to NONE instances in topological order, so a skip or upstream failure cascades down
     * the whole DAG in one pass.
     */
    void applyTriggerRules(long now) {
        for (DagTask task : shape.dag().tasks()) {
            TaskInstance ti = instances.get(task.id());
            if (ti == null || ti.state() != TaskInstanceState.NONE) {
                continue;
            }
            int succeeded = 0;
            int failed = 0;
            int skipped = 0;
            for (String up : task.upstream()) {
                switch (instances.get(up).state()) {
                    case SUCCESS -> succeeded++;
                    case FAILED, UPSTREAM_FAILED -> failed++;
                    case SKIPPED -> skipped++;
                    default -> { }
                }
            }
            switch (task.triggerRule().decide(task.upstream().size(), succeeded, failed, skipped)) {
                case WAIT -> { }
                case RUN -> put(ti.withState(TaskInstanceState.SCHEDULED));
                case SKIP -> put(new TaskInstance(ti.runId(), ti.taskId(), TaskInstanceState.SKIPPED, ti.tryNumber(),
                        null, 0, 0, now, null, null));
                case UPSTREAM_FAILED -> put(new TaskInstance(ti.runId(), ti.taskId(),
                        TaskInstanceState.UPSTREAM_FAILED, ti.tryNumber(), null, 0, 0, now, null, null));
            }
        }
    }

    /** The run's final state once every instance is final: FAILED if a leaf failed or upstream-failed. */
    DagRunState outcome() {
        for (TaskInstance ti : instances.values()) {
            if (!ti.state().isFinal()) {
                return DagRunState.RUNNING;
            }
        }
        for (String leaf : shape.leaves()) {
            TaskInstanceState s = instances.get(leaf).state();
            if (s == TaskInstanceState.FAILED || s == TaskInstanceState.UPSTREAM_FAILED) {
                return DagRunState.FAILED;
            }
        }
        return DagRunState.SUCCESS;
    }

    private static boolean same(String a, String b) {
        return a == null ? b == null : a.equals(b);
    }
}
