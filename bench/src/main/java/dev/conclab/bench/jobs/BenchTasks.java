package dev.conclab.bench.jobs;

import dev.conclab.jobs.task.ArgType;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import java.util.function.Supplier;

/**
 * The benchmark's tasks, as a {@code Supplier<TaskRegistry>} a worker in another JVM can rebuild by class name:
 * {@code stamp(submitNanos)} does no work and returns {@link System#nanoTime()} as its body starts, so the client
 * reads submit→start latency from the results afterwards. {@code nanoTime} is the system-wide monotonic clock on
 * Linux, so a stamp taken in a worker JVM compares with the submitting JVM's. Stateless and thread-safe.
 */
public final class BenchTasks implements Supplier<TaskRegistry> {

    /** The task's name. */
    public static final String STAMP = "stamp";

    /** The registry, built once. */
    public static final TaskRegistry REGISTRY = TaskRegistry.builder()
            .register(TaskDefinition.builder(STAMP, (ctx, args) -> System.nanoTime()).params(ArgType.INTEGER)
                    .idempotent(true).build())
            .register(TaskDefinition.builder("nap", (ctx, args) -> {
                Thread.sleep(args.get(0).asLong());
                return null;
            }).params(ArgType.INTEGER).idempotent(true).build())
            .build();

    /** For reflection. */
    public BenchTasks() {
    }

    @Override
    public TaskRegistry get() {
        return REGISTRY;
    }
}
