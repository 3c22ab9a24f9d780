package dev.conclab.lab.experiments.tasks;

import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;

import java.util.function.Supplier;

/**
 * The tasks of this package's experiments: the {@code jobs} demo tasks plus two more. A
 * {@code Supplier<TaskRegistry>} with a public no-argument constructor, so a worker in a child JVM
 * ({@code WorkerMain --registry}) rebuilds the same registry from this class's name. Stateless and thread-safe.
 *
 * <ul>
 *   <li>{@code hang-first-delivery()}: sleeps an hour on its first delivery (a worker is killed while it runs);
 *       on a redelivery it returns at once, {@code "done on delivery N"}.</li>
 *   <li>{@code limited()}: returns null; rate limit {@value #RATE_PER_SECOND}/s with a burst of {@value #BURST},
 *       which the broker enforces across all workers.</li>
 * </ul>
 */
public final class TaskLabTasks implements Supplier<TaskRegistry> {

    /** The permits per second of {@code limited}. */
    public static final int RATE_PER_SECOND = 10;
    /** The burst of {@code limited}: permits a full bucket holds. */
    public static final int BURST = 1;

    /** The registry, built once. */
    public static final TaskRegistry REGISTRY = TaskRegistry.builder()
            .registerAll(DemoTasks.REGISTRY)
            .register(TaskDefinition.builder("hang-first-delivery", (ctx, args) -> {
                if (ctx.deliveries() == 1) {
                    Thread.sleep(3_600_000); // interruptible: a graceful stop still ends it
                }
                return "done on delivery " + ctx.deliveries();
            }).build())
            .register(TaskDefinition.builder("limited", (ctx, args) -> null)
                    .rateLimit(RATE_PER_SECOND, BURST).build())
            .build();

    /** For reflection: see the class description. */
    public TaskLabTasks() {
    }

    @Override
    public TaskRegistry get() {
        return REGISTRY;
    }
}
