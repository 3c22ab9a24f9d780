package dev.conclab.jobs.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.task.ArgType;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * The demo tasks plus the ones the fault tests steer with latches (in-process workers) or with the delivery count
 * (a child JVM). A {@code Supplier<TaskRegistry>}, so a child JVM rebuilds it from the class name.
 */
public final class FaultTasks implements Supplier<TaskRegistry> {

    /** Latches by name: {@code gate(name)} waits for {@code open(name)}; reset by {@link #reset()}. */
    static final Map<String, CountDownLatch> GATES = new ConcurrentHashMap<>();
    /** Counted down when a body is entered / when it saw an interrupt, by name. */
    static final Map<String, CountDownLatch> ENTERED = new ConcurrentHashMap<>();
    static final Map<String, CountDownLatch> INTERRUPTED = new ConcurrentHashMap<>();

    /** The arguments of {@code record(x)} calls in the order they ran (in this JVM). */
    static final java.util.List<String> ORDER = new java.util.concurrent.CopyOnWriteArrayList<>();

    static final TaskRegistry REGISTRY = TaskRegistry.builder()
            .registerAll(DemoTasks.REGISTRY)
            // waits (interruptibly) until the test opens the gate of its name
            .register(TaskDefinition.builder("gate", (ctx, args) -> {
                String name = args.get(0).asText();
                entered(name).countDown();
                try {
                    gate(name).await();
                } catch (InterruptedException e) {
                    interrupted(name).countDown();
                    throw e;
                }
                return name;
            }).params(ArgType.STRING).build())
            // ignores interrupts until the test opens its gate (a body a thread pool cannot stop)
            .register(TaskDefinition.builder("stubborn", (ctx, args) -> {
                String name = args.get(0).asText();
                entered(name).countDown();
                boolean wasInterrupted = false;
                while (true) {
                    try {
                        gate(name).await();
                        break;
                    } catch (InterruptedException e) {
                        wasInterrupted = true;
                        interrupted(name).countDown();
                    }
                }
                return wasInterrupted ? "interrupted" : "clean";
            }).params(ArgType.STRING).build())
            // sleeps an hour on its first delivery; a redelivery returns at once (the kill -9 test)
            .register(TaskDefinition.builder("hang-first-delivery", (ctx, args) -> {
                if (ctx.deliveries() == 1) {
                    Thread.sleep(3_600_000);
                }
                return "done on delivery " + ctx.deliveries();
            }).build())
            // waits until a file exists: a gate another JVM (the test) opens by creating the file
            .register(TaskDefinition.builder("await-file", (ctx, args) -> {
                java.nio.file.Path path = java.nio.file.Path.of(args.get(0).asText());
                while (!java.nio.file.Files.exists(path)) {
                    Thread.sleep(5);
                }
                return "opened";
            }).params(ArgType.STRING).build())
            .register(TaskDefinition.builder("record", (ctx, args) -> ORDER.add(args.get(0).asText()))
                    .params(ArgType.STRING).build())
            .register(TaskDefinition.builder("limited", (ctx, args) -> null).rateLimit(10, 1).build())
            .register(TaskDefinition.builder("sum", (ctx, args) -> {
                long total = 0;
                for (JsonNode n : args.get(0)) {
                    total += n.asLong();
                }
                return total;
            }).params(ArgType.ARRAY).build())
            .build();

    public FaultTasks() {
    }

    @Override
    public TaskRegistry get() {
        return REGISTRY;
    }

    static CountDownLatch gate(String name) {
        return GATES.computeIfAbsent(name, k -> new CountDownLatch(1));
    }

    static CountDownLatch entered(String name) {
        return ENTERED.computeIfAbsent(name, k -> new CountDownLatch(1));
    }

    static CountDownLatch interrupted(String name) {
        return INTERRUPTED.computeIfAbsent(name, k -> new CountDownLatch(1));
    }

    static void open(String name) {
        gate(name).countDown();
    }

    /** Opens every gate (so no body stays blocked) and forgets them. */
    static void reset() {
        GATES.values().forEach(CountDownLatch::countDown);
        GATES.clear();
        ENTERED.clear();
        INTERRUPTED.clear();
        ORDER.clear();
    }
}
