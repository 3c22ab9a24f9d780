package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;

import java.util.Map;

/** Reads a {@link TaskRecord} from the fields of a task's hash. Stateless. */
final class TaskRecords {

    private TaskRecords() {
    }

    /** The record, or null if the hash is empty (no such task). */
    static TaskRecord fromHash(String id, Map<String, String> h) {
        if (h == null || h.isEmpty() || !h.containsKey("state")) {
            return null;
        }
        return new TaskRecord(id, h.get("name"), TaskState.valueOf(h.get("state")), h.get("args"),
                h.get("result"), h.get("error"), (int) number(h, "attempt"), (int) number(h, "deliveries"),
                blankToNull(h.get("worker")), number(h, "submitted"), number(h, "started"), number(h, "finished"));
    }

    private static long number(Map<String, String> h, String field) {
        String v = h.get(field);
        return v == null || v.isEmpty() ? 0 : Long.parseLong(v);
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
