package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.support.Await;
import dev.conclab.jobs.dag.support.InMemoryBroker;
import dev.conclab.jobs.dag.support.TestConsumer;
import dev.conclab.jobs.task.TaskState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A DAG of 1,000 tasks (one start, 998 in parallel, one end) completes, each task once; and a test-only measure of
 * the scheduler's overhead over the critical path at the workers' concurrency, two ways:
 * <ul>
 *   <li>against the ideal, {@code d × (1 + ⌈998 / C⌉ + 1)} for tasks of {@code d} ms on {@code C} worker threads
 *       (this also charges the broker's and the worker's own costs to the scheduler);</li>
 *   <li>against the same three waves pushed through the same broker and workers by hand (enqueue the start task,
 *       wait for its result, enqueue the 998, wait, enqueue the end task, wait): what is left is the scheduler's.</li>
 * </ul>
 * The issue wants at most 2×; the assertion's bound is generous (the machine is shared) and the figures are printed
 * for the report. Best of two of each, after the first warms the JIT.
 */
class FanOutFanInTest {

    private static final int MIDDLE = 998;
    private static final int CONCURRENCY = 8;
    private static final long TASK_MILLIS = 5;
    private static final int REPEATS = 2;

    @TempDir
    Path dir;

    private static Dag fanOutFanIn() {
        Dag.Builder b = Dag.builder("fan").maxActiveTasks(1_000).task("start", "work").add();
        String[] middle = new String[MIDDLE];
        for (int i = 0; i < MIDDLE; i++) {
            middle[i] = "m" + i;
            b.task(middle[i], "work").after("start").add();
        }
        return b.task("end", "work").after(middle).add().build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "sqlite"})
    void aThousandTaskFanOutFanInCompletesNearItsCriticalPath(String brokerKind) {
        Dag dag = fanOutFanIn();
        assertThat(dag.tasks()).hasSize(1_000);
        try (Broker broker = brokerKind.equals("sqlite") ? SqliteBroker.open(dir.resolve("broker.db"))
                : new InMemoryBroker();
             DagStore store = DagStore.open(dir.resolve("dags.db"));
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)));
             TestConsumer consumer = new TestConsumer(broker, Map.of("work", args -> {
                 Thread.sleep(TASK_MILLIS);
                 return null;
             }), CONCURRENCY)) {
            scheduler.start();
            double queueOnly = Double.MAX_VALUE;
            double viaDag = Double.MAX_VALUE;
            for (int r = 0; r < REPEATS; r++) {
                queueOnly = Math.min(queueOnly, threeWavesByHand(broker));
                long t0 = System.nanoTime();
                DagRun run = scheduler.trigger("fan", Map.of());
                Await.until("the run to end", Duration.ofMillis(5),
                        () -> scheduler.run(run.runId()).orElseThrow().state().isFinal());
                viaDag = Math.min(viaDag, (System.nanoTime() - t0) / 1e6);
                assertThat(scheduler.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
            }
            assertThat(consumer.executions()).hasSize(REPEATS * (1_000 + 1_000));
            assertThat(consumer.maxRunsOfOneTask()).isEqualTo(1);
            assertThat(scheduler.lastError()).isNull();

            long waves = 1 + (MIDDLE + CONCURRENCY - 1) / CONCURRENCY + 1;
            double ideal = waves * TASK_MILLIS;
            System.out.printf(Locale.ROOT, "[dag fan-out/fan-in] broker=%s tasks=1000 concurrency=%d task=%dms "
                            + "ideal=%.0fms queue-only=%.0fms dag=%.0fms dag/queue-only=%.2f dag/ideal=%.2f%n",
                    brokerKind, CONCURRENCY, TASK_MILLIS, ideal, queueOnly, viaDag, viaDag / queueOnly,
                    viaDag / ideal);
            System.out.println("[dag fan-out/fan-in] broker=" + brokerKind + " " + scheduler.stats());
            assertThat(viaDag / queueOnly).as("DAG wall time / the same waves through the queue by hand")
                    .isLessThan(4.0);
        }
    }

    /** Start → 998 → end through the broker without the scheduler; returns the wall time in ms. */
    private static double threeWavesByHand(Broker broker) {
        long t0 = System.nanoTime();
        wave(broker, 1);
        wave(broker, MIDDLE);
        wave(broker, 1);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void wave(Broker broker, int size) {
        List<TaskMessage> messages = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            messages.add(TaskMessage.of(UUID.randomUUID().toString(), "work", "[]", System.currentTimeMillis()));
        }
        Set<String> open = new HashSet<>(broker.enqueueAll(messages));
        // Polled as the scheduler polls: every 5 ms, asking only about tasks not yet finished.
        Await.until("a wave to finish", Duration.ofMillis(5), () -> {
            broker.records(List.copyOf(open)).stream().filter(r -> r.state() == TaskState.SUCCESS)
                    .forEach(r -> open.remove(r.id()));
            return open.isEmpty();
        });
    }
}
