package dev.conclab.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.task.ArgType;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The demo tasks used by the tests, the CLI, the experiments and the benchmark. A {@code Supplier<TaskRegistry>}
 * with a public no-argument constructor, so a worker in another JVM (or a process-pool child) can rebuild the same
 * registry from this class's name. Stateless and thread-safe; every body heeds interrupts.
 *
 * <ul>
 *   <li>{@code noop()} → null</li>
 *   <li>{@code add(a, b)} → a + b (integers)</li>
 *   <li>{@code sleep(ms)} → ms, after sleeping that long (interruptible)</li>
 *   <li>{@code cpu(n)} → a checksum of n rounds of integer mixing (checks for interruption every 2^16 rounds)</li>
 *   <li>{@code fail-always()} → always throws; 3 retries, back-off 10 ms doubling to 100 ms, then dead-lettered</li>
 *   <li>{@code fail-then-succeed(k)} → throws on attempts 0..k-1, then returns the attempt; 5 retries, back-off 10
 *   ms doubling to 100 ms</li>
 *   <li>{@code echo(x)} → x</li>
 * </ul>
 */
public final class DemoTasks implements Supplier<TaskRegistry> {

    /** The registry, built once. */
    public static final TaskRegistry REGISTRY = build();

    /** For reflection: see the class description. */
    public DemoTasks() {
    }

    @Override
    public TaskRegistry get() {
        return REGISTRY;
    }

    private static TaskRegistry build() {
        Duration base = Duration.ofMillis(10);
        Duration cap = Duration.ofMillis(100);
        return TaskRegistry.builder()
                .register(TaskDefinition.builder("noop", (ctx, args) -> null).idempotent(true).build())
                .register(TaskDefinition.builder("add", (ctx, args) -> args.get(0).asLong() + args.get(1).asLong())
                        .params(ArgType.INTEGER, ArgType.INTEGER).idempotent(true).build())
                .register(TaskDefinition.builder("sleep", (ctx, args) -> {
                    long ms = args.get(0).asLong();
                    Thread.sleep(ms);
                    return ms;
                }).params(ArgType.INTEGER).idempotent(true).build())
                .register(TaskDefinition.builder("cpu", (ctx, args) -> cpu(ctx::checkInterrupted, args.get(0)))
                        .params(ArgType.INTEGER).idempotent(true).build())
                .register(TaskDefinition.builder("fail-always", (ctx, args) -> {
                    throw new IllegalStateException("fail-always fails (attempt " + ctx.attempt() + ")");
                }).maxRetries(3).backoff(base, cap).build())
                .register(TaskDefinition.builder("fail-then-succeed", (ctx, args) -> {
                    long k = args.get(0).asLong();
                    if (ctx.attempt() < k) {
                        throw new IllegalStateException("attempt " + ctx.attempt() + " of fail-then-succeed(" + k
                                + ") fails");
                    }
                    return ctx.attempt();
                }).params(ArgType.INTEGER).maxRetries(5).backoff(base, cap).build())
                .register(TaskDefinition.builder("echo", (ctx, args) -> args.get(0)).arity(1).idempotent(true)
                        .build())
                .build();
    }

    private interface Check {
        void run() throws InterruptedException;
    }

    private static long cpu(Check check, JsonNode n) throws InterruptedException {
        long rounds = n.asLong();
        long x = 0x9E3779B97F4A7C15L;
        for (long i = 0; i < rounds; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            if ((i & 0xFFFF) == 0) {
                check.run();
            }
        }
        return x;
    }
}
