package dev.conclab.jobs.broker.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.broker.TaskMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TaskMessage} as the broker stores it (JSON in the task's hash), and as the Lua scripts take it: a flat
 * "spec" of the fields they need to place it. Thread-safe (Jackson's mapper is, once configured).
 */
final class TaskMessageJson {

    /** Values per spec; {@code SPEC} in common.lua must agree. */
    static final int SPEC = 11;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TaskMessageJson() {
    }

    static String write(TaskMessage message) {
        try {
            return MAPPER.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize task message " + message.id(), e);
        }
    }

    static TaskMessage read(String json) {
        try {
            return MAPPER.readValue(json, TaskMessage.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt task message in Redis: " + json, e);
        }
    }

    /** Appends the spec of a message: id, name, args, queue, priority, not-before, idempotency key, submitted, JSON,
     * attempt, chord id. */
    static void appendSpec(List<String> args, TaskMessage m) {
        args.add(m.id());
        args.add(m.name());
        args.add(m.argsJson());
        args.add(m.queue());
        args.add(Integer.toString(m.priority()));
        args.add(Long.toString(m.notBeforeMillis()));
        args.add(m.idempotencyKey() == null ? "" : m.idempotencyKey());
        args.add(Long.toString(m.submittedMillis()));
        args.add(write(m));
        args.add(Integer.toString(m.attempt()));
        args.add(m.chordId() == null ? "" : m.chordId());
    }

    static List<String> spec(TaskMessage m) {
        List<String> args = new ArrayList<>(SPEC);
        appendSpec(args, m);
        return args;
    }
}
