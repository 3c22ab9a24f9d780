package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.store.TaskInstance;
import dev.conclab.jobs.dag.support.Await;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler with the real {@link Worker} over the embedded SQLite broker: retries, the execution timeout (the
 * worker's hard limit), a trigger rule, and the 1,000-task fan-out/fan-in with its scheduling overhead printed.
 */
class DagOnWorkerTest {

    private static final int CONCURRENCY = 8;
    private static final long TASK_MILLIS = 5;

    @TempDir
    Path dir;

    private final AtomicInteger works = new AtomicInteger();

    private TaskRegistry registry() {
        return TaskRegistry.builder()
                .register(TaskDefinition.builder("work", (ctx, args) -> {
                    works.incrementAndGet();
                    Thread.sleep(TASK_MILLIS);
                    return null;
                }).build())
                .register(TaskDefinition.builder("boom", (ctx, args) -> {
                    throw new IllegalStateException("boom");
                }).build())
                .register(TaskDefinition.builder("slow", (ctx, args) -> {
                    Thread.sleep(60_000); // interrupted when the worker abandons it
                    return null;
                }).build())
                .build();
    }

    private static WorkerConfig workerConfig() {
        return WorkerConfig.builder().consumer("dag-worker").pool(PoolKind.VTHREADS).concurrency(CONCURRENCY)
                .fetchWait(Duration.ofMillis(50)).trackStarted(true).build();
    }

    @Test
    void retriesTimeoutsAndTriggerRulesOnTheRealWorker() {
        Dag dag = Dag.builder("real")
                .task("a", "work").add()
                .task("b", "boom").after("a").retries(1, Duration.ZERO).add()
                .task("c", "work").after("a").add()
                .task("t", "slow").after("a").executionTimeout(Duration.ofMillis(300)).add()
                .task("d", "work").after("b", "c", "t").triggerRule(TriggerRule.ALL_DONE).add()
                .build();
        try (SqliteBroker broker = SqliteBroker.open(dir.resolve("jobs.db"));
             DagStore store = DagStore.open(dir.resolve("jobs.db"));
             Worker worker = new Worker(broker, registry(), workerConfig()).start();
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)))) {
            scheduler.start();
            DagRun run = scheduler.trigger("real", Map.of());
            Await.until("the run to end", () -> scheduler.run(run.runId()).orElseThrow().state().isFinal());

            Map<String, TaskInstance> byTask = new HashMap<>();
            scheduler.instances(run.runId()).forEach(ti -> byTask.put(ti.taskId(), ti));
            assertThat(byTask.get("a").state()).isEqualTo(TaskInstanceState.SUCCESS);
            assertThat(byTask.get("b").state()).isEqualTo(TaskInstanceState.FAILED);
            assertThat(byTask.get("b").tryNumber()).isEqualTo(2);
            assertThat(byTask.get("b").error()).contains("boom");
            assertThat(byTask.get("c").state()).isEqualTo(TaskInstanceState.SUCCESS);
            assertThat(byTask.get("t").state()).isEqualTo(TaskInstanceState.FAILED);
            assertThat(byTask.get("t").error()).contains("300 ms");
            assertThat(byTask.get("d").state()).isEqualTo(TaskInstanceState.SUCCESS); // all_done
            assertThat(byTask.get("d").worker()).isEqualTo(worker.config().consumer());
            assertThat(scheduler.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
            assertThat(works.get()).isEqualTo(3);
            assertThat(store.tries(run.runId())).hasSize(6); // a, b twice, c, t, d
            assertThat(scheduler.lastError()).isNull();
        }
    }

    @Test
    void aThousandTaskFanOutFanInOnTheRealWorker() {
        int middle = 998;
        Dag.Builder b = Dag.builder("fan").maxActiveTasks(1_000).task("start", "work").add();
        String[] ids = new String[middle];
        for (int i = 0; i < middle; i++) {
            ids[i] = "m" + i;
            b.task(ids[i], "work").after("start").add();
        }
        Dag dag = b.task("end", "work").after(ids).add().build();
        try (SqliteBroker broker = SqliteBroker.open(dir.resolve("broker.db"));
             DagStore store = DagStore.open(dir.resolve("dags.db"));
             Worker worker = new Worker(broker, registry(), workerConfig()).start();
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)))) {
            scheduler.start();
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 2; r++) { // the first warms the JIT
                long t0 = System.nanoTime();
                DagRun run = scheduler.trigger("fan", Map.of());
                Await.until("the run to end", Duration.ofMillis(5),
                        () -> scheduler.run(run.runId()).orElseThrow().state().isFinal());
                best = Math.min(best, (System.nanoTime() - t0) / 1e6);
                assertThat(scheduler.run(run.runId()).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
            }
            assertThat(works.get()).isEqualTo(2_000);
            int concurrency = worker.config().concurrency();
            double ideal = (1 + (middle + concurrency - 1) / concurrency + 1) * TASK_MILLIS;
            System.out.printf(Locale.ROOT, "[dag fan-out/fan-in] real worker (vthreads) on sqlite: tasks=1000 "
                    + "concurrency=%d task=%dms ideal=%.0fms dag=%.0fms dag/ideal=%.2f; %s%n", concurrency,
                    TASK_MILLIS, ideal, best, best / ideal, scheduler.stats());
            assertThat(scheduler.stats().dispatched()).isEqualTo(2_000);
            assertThat(best / ideal).as("wall / ideal critical path").isLessThan(8.0);
        }
    }
}
