package dev.conclab.jobs.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.task.Json;
import dev.conclab.jobs.task.TaskContext;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import dev.conclab.toolkit.process.pool.TaskRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * How the registry maps onto the process pool's {@link TaskRef}: every task runs through ONE static method,
 * {@link #run}, reachable by the child JVMs. Only strings and numbers cross the wire (the registry's class name, the
 * task's name, its JSON arguments, its id and attempt); the child builds the registry once from the
 * {@code Supplier<TaskRegistry>} class and calls the named task's body there. So task bodies need not be static
 * methods, but the registry must be rebuildable from a class name in a fresh JVM. Thread-safe (the registry cache
 * is a concurrent map).
 */
public final class ProcessTaskBridge {

    /** The pool's view of {@link #run}. */
    public static final TaskRef RUN = TaskRef.of(ProcessTaskBridge.class, "run");

    private static final Map<String, TaskRegistry> REGISTRIES = new ConcurrentHashMap<>();

    private ProcessTaskBridge() {
    }

    /**
     * Runs one attempt of a task in this (child) JVM and returns its result as JSON text. Exceptions propagate to
     * the pool, which reports them to the parent as {@code RemoteTaskException}.
     */
    public static String run(String registryClass, String name, String argsJson, String taskId, long attempt,
                             long deliveries) throws Exception {
        TaskRegistry registry = REGISTRIES.computeIfAbsent(registryClass, ProcessTaskBridge::load);
        TaskDefinition definition = registry.get(name);
        List<JsonNode> args = new ArrayList<>();
        Json.read(argsJson).forEach(args::add);
        Object result = definition.body().run(TaskContext.of(taskId, (int) attempt, (int) deliveries), args);
        return Json.write(result);
    }

    /** Loads a registry from a {@code Supplier<TaskRegistry>} class name; used by the worker and its children. */
    public static TaskRegistry load(String registryClass) {
        try {
            Class<?> type = Class.forName(registryClass);
            Object supplier = type.getConstructor().newInstance();
            if (!(supplier instanceof Supplier<?> s) || !(s.get() instanceof TaskRegistry registry)) {
                throw new IllegalArgumentException(registryClass + " is not a Supplier<TaskRegistry>");
            }
            return registry;
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot instantiate registry class " + registryClass
                    + " (it needs a public no-argument constructor): " + e, e);
        }
    }
}
