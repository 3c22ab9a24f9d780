package dev.conclab.jobs.dag;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.TaskTry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A DAG run as a Gantt chart in the Chrome Trace Event format (open it in {@code chrome://tracing} or Perfetto):
 * one complete event ({@code "ph":"X"}) per task try that started, one lane ({@code tid}) per worker, named by
 * metadata events, with {@code args} holding the try's state, try number and queue task id. A try still running
 * ends at {@code nowMillis}. Times are microseconds from the run's first start. Stateless; thread-safe.
 */
public final class GanttTrace {

    private static final ObjectMapper JSON = new ObjectMapper();

    private GanttTrace() {
    }

    /**
     * The trace of a run from its tries.
     *
     * @param run       the run (its id names the process)
     * @param tries     its tries, as {@link dev.conclab.jobs.dag.store.DagStore#tries} gives them
     * @param nowMillis the end of tries still running
     */
    public static String of(DagRun run, List<TaskTry> tries, long nowMillis) {
        Objects.requireNonNull(run, "run");
        Objects.requireNonNull(tries, "tries");
        List<TaskTry> started = new ArrayList<>(tries.stream().filter(t -> t.startMillis() > 0).toList());
        started.sort(Comparator.comparingLong(TaskTry::startMillis).thenComparing(TaskTry::taskId));
        long origin = started.isEmpty() ? 0 : started.getFirst().startMillis();
        Map<String, Integer> lanes = new LinkedHashMap<>();
        ObjectNode root = JSON.createObjectNode();
        ArrayNode events = root.putArray("traceEvents");
        ObjectNode process = events.addObject();
        process.put("name", "process_name").put("ph", "M").put("pid", 1).put("tid", 0);
        String state = run.state().name().toLowerCase(Locale.ROOT);
        process.putObject("args").put("name", run.runId() + " (" + state + ")");
        for (TaskTry t : started) {
            String worker = t.worker() == null ? "unknown worker" : t.worker();
            Integer lane = lanes.get(worker);
            if (lane == null) {
                lane = lanes.size() + 1;
                lanes.put(worker, lane);
                ObjectNode meta = events.addObject();
                meta.put("name", "thread_name").put("ph", "M").put("pid", 1).put("tid", lane);
                meta.putObject("args").put("name", worker);
            }
            long end = t.endMillis() > 0 ? t.endMillis() : Math.max(nowMillis, t.startMillis());
            ObjectNode e = events.addObject();
            e.put("name", t.taskId()).put("cat", "task").put("ph", "X").put("pid", 1).put("tid", lane)
                    .put("ts", (t.startMillis() - origin) * 1000).put("dur", Math.max(0, end - t.startMillis()) * 1000);
            e.putObject("args").put("state", t.state().name().toLowerCase(Locale.ROOT))
                    .put("try", t.tryNumber())
                    .put("queue_task_id", t.queueTaskId());
        }
        root.put("displayTimeUnit", "ms");
        return root.toString();
    }
}
