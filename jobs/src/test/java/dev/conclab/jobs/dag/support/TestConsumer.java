package dev.conclab.jobs.dag.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only stand-in for the Worker (until it exists): {@code concurrency} platform threads, each looping reserve
 * one message → {@code started} → run the handler registered under the task's name → settle (Success with the
 * handler's result as JSON, or Failure without dead-lettering if it throws). Records every execution. Closing stops
 * and joins its threads.
 */
public final class TestConsumer implements AutoCloseable {

    /** A task body: the arguments in, a result out (converted to JSON); throwing fails the try. */
    @FunctionalInterface
    public interface Handler {
        Object run(JsonNode args) throws Exception;
    }

    /** One execution: the queue task id, the task name and its rendered arguments. */
    public record Execution(String queueTaskId, String name, String argsJson, String worker) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Broker broker;
    private final Map<String, Handler> handlers;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Execution> executions = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> runsById = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final Duration visibility;
    private volatile boolean stopping;

    public TestConsumer(Broker broker, Map<String, Handler> handlers, int concurrency) {
        this(broker, handlers, concurrency, "test-worker", Duration.ofMinutes(5));
    }

    /** Threads named {@code prefix-i}, reserving with this visibility timeout. */
    public TestConsumer(Broker broker, Map<String, Handler> handlers, int concurrency, String prefix,
                        Duration visibility) {
        this.broker = broker;
        this.handlers = Map.copyOf(handlers);
        this.visibility = visibility;
        for (int i = 0; i < concurrency; i++) {
            String name = prefix + "-" + i;
            threads.add(Thread.ofPlatform().name(name).start(() -> loop(name)));
        }
    }

    private void loop(String worker) {
        while (!stopping) {
            List<Delivery> got;
            try {
                got = broker.reserve(worker, List.of(TaskMessage.DEFAULT_QUEUE), 1, visibility,
                        Duration.ofMillis(50));
            } catch (InterruptedException e) {
                return;
            }
            for (Delivery d : got) {
                TaskMessage m = d.message();
                broker.started(d);
                executions.add(new Execution(m.id(), m.name(), m.argsJson(), worker));
                runsById.computeIfAbsent(m.id(), k -> new AtomicInteger()).incrementAndGet();
                peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                Settlement s;
                try {
                    Handler h = handlers.get(m.name());
                    if (h == null) {
                        throw new IllegalStateException("no handler for " + m.name());
                    }
                    s = new Settlement.Success(JSON.writeValueAsString(h.run(JSON.readTree(m.argsJson()))));
                } catch (InterruptedException e) {
                    running.decrementAndGet();
                    return; // closed mid-task: leave the message reserved and unsettled, as a killed worker would
                } catch (Exception e) {
                    s = new Settlement.Failure(e.getClass().getSimpleName() + ": " + e.getMessage(), false);
                }
                running.decrementAndGet();
                broker.settle(d, s);
            }
        }
    }

    /** Every execution so far, in start order. */
    public List<Execution> executions() {
        return List.copyOf(executions);
    }

    /** The most executions that ran at once. */
    public int peakConcurrency() {
        return peak.get();
    }

    /** The most times any one queue task id ran (1 if nothing ran twice). */
    public int maxRunsOfOneTask() {
        return runsById.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
    }

    @Override
    public void close() {
        stopping = true;
        for (Thread t : threads) {
            t.interrupt();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
