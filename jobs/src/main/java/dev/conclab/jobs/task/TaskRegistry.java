package dev.conclab.jobs.task;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The tasks a client may submit and a worker may run, by name. Immutable once built, so one instance is safely
 * shared by any number of threads; clients and workers must be given registries with the same definitions (a worker
 * fails a task it does not know, for good).
 *
 * <p>A worker running the process pool rebuilds the registry in each child JVM from a class implementing
 * {@code Supplier<TaskRegistry>} with a public no-argument constructor (see {@code worker.WorkerConfig}).
 */
public final class TaskRegistry {

    private final Map<String, TaskDefinition> tasks;

    private TaskRegistry(Map<String, TaskDefinition> tasks) {
        this.tasks = Map.copyOf(tasks);
    }

    /** A builder of an empty registry. */
    public static Builder builder() {
        return new Builder();
    }

    /** The definition of a task, or empty. */
    public Optional<TaskDefinition> find(String name) {
        return Optional.ofNullable(tasks.get(name));
    }

    /** The definition of a task; throws {@link SubmitException} listing the known names if there is none. */
    public TaskDefinition get(String name) {
        Objects.requireNonNull(name, "task name");
        TaskDefinition definition = tasks.get(name);
        if (definition == null) {
            throw new SubmitException("unknown task '" + name + "'; registered: " + names());
        }
        return definition;
    }

    /** The registered names, sorted. */
    public List<String> names() {
        return tasks.keySet().stream().sorted().toList();
    }

    /** All definitions, sorted by name. */
    public Collection<TaskDefinition> definitions() {
        return names().stream().map(tasks::get).toList();
    }

    /**
     * Validates a submission given as JSON text: the task exists, the text is a JSON array, and its elements match
     * the declared parameters after the {@code leading} ones a canvas supplies.
     *
     * @return the elements of the array
     * @throws SubmitException naming the task and the problem
     */
    public List<JsonNode> validate(String name, String argsJson, int leading) {
        TaskDefinition definition = get(name);
        Objects.requireNonNull(argsJson, "argsJson");
        JsonNode parsed;
        try {
            parsed = Json.read(argsJson);
        } catch (IllegalArgumentException e) {
            throw new SubmitException("task '" + name + "': arguments are not valid JSON (" + e.getMessage() + ")", e);
        }
        if (parsed == null || !parsed.isArray()) {
            throw new SubmitException("task '" + name + "': arguments must be a JSON array, got "
                    + (parsed == null ? "nothing" : ArgType.describe(parsed)));
        }
        List<JsonNode> args = new ArrayList<>(parsed.size());
        parsed.forEach(args::add);
        definition.check(args, leading);
        return args;
    }

    /** Builds a {@link TaskRegistry}; not thread-safe. */
    public static final class Builder {
        private final Map<String, TaskDefinition> tasks = new LinkedHashMap<>();

        private Builder() {
        }

        /** Adds a task; a second task with the same name is rejected. */
        public Builder register(TaskDefinition definition) {
            Objects.requireNonNull(definition, "definition");
            if (tasks.putIfAbsent(definition.name(), definition) != null) {
                throw new IllegalArgumentException("task '" + definition.name() + "' is already registered");
            }
            return this;
        }

        /** Adds every task of another registry (to extend one, for example the demo tasks). */
        public Builder registerAll(TaskRegistry other) {
            other.definitions().forEach(this::register);
            return this;
        }

        public TaskRegistry build() {
            return new TaskRegistry(tasks);
        }
    }
}
