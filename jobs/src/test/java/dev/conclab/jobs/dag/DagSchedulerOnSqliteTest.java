package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.dag.store.TaskInstance;
import dev.conclab.jobs.dag.support.Await;
import dev.conclab.jobs.dag.support.TestConsumer;
import dev.conclab.jobs.task.TaskState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler over the real embedded broker, with the DAG tables in the broker's own SQLite file: everything
 * (worker, scheduler, store, broker) goes away mid-run and comes back; the run completes with no run or task
 * dispatched twice, and the worker's death shows as a queue redelivery of the same try, not as a DAG retry.
 */
class DagSchedulerOnSqliteTest {

    private static final Duration VISIBILITY = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void everythingRestartsMidRunAndTheRunCompletesOnce() {
        Dag dag = Dag.builder("etl")
                .task("a", "noop").add()
                .task("b1", "hold").after("a").add()
                .task("b2", "hold").after("a").add()
                .task("c", "noop").after("b1", "b2").add()
                .build();
        Path file = dir.resolve("jobs.db");
        CountDownLatch holding = new CountDownLatch(2);
        CountDownLatch never = new CountDownLatch(1);
        String runId;
        List<TestConsumer.Execution> firstLife;
        try (SqliteBroker broker = SqliteBroker.open(file);
             DagStore store = DagStore.open(file);
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)))) {
            TestConsumer worker = new TestConsumer(broker, Map.of("noop", args -> "ok", "hold", args -> {
                holding.countDown();
                never.await(); // runs until the worker is killed
                return "ok";
            }), 3, "first-worker", VISIBILITY);
            scheduler.start();
            try {
                String id = scheduler.trigger("etl", Map.of()).runId();
                runId = id;
                Await.until("b1 and b2 to run", () -> holding.getCount() == 0);
                Await.until("the scheduler to see them running", () -> scheduler.instances(id).stream()
                        .filter(ti -> ti.taskId().startsWith("b"))
                        .allMatch(ti -> ti.state() == TaskInstanceState.RUNNING));
            } finally {
                worker.close(); // killed mid-task: b1 and b2 stay reserved, unsettled
            }
            firstLife = worker.executions();
        } // then the scheduler, the store and the broker go away

        try (SqliteBroker broker = SqliteBroker.open(file);
             DagStore store = DagStore.open(file);
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)));
             TestConsumer worker = new TestConsumer(broker, Map.of("noop", args -> "ok", "hold", args -> "ok"), 3,
                     "second-worker", VISIBILITY)) {
            scheduler.start();
            Await.until("the run to end", () -> scheduler.run(runId).orElseThrow().state().isFinal());

            assertThat(scheduler.run(runId).orElseThrow().state()).isEqualTo(DagRunState.SUCCESS);
            assertThat(scheduler.runs("etl")).hasSize(1);
            List<TaskInstance> instances = scheduler.instances(runId);
            assertThat(instances).allMatch(ti -> ti.state() == TaskInstanceState.SUCCESS && ti.tryNumber() == 1);
            for (TaskInstance ti : instances) {
                TaskRecord rec = broker.record(ti.queueTaskId()).orElseThrow();
                assertThat(rec.state()).isEqualTo(TaskState.SUCCESS);
                // The dead worker's tasks were redelivered by the queue (same try), the others delivered once.
                assertThat(rec.deliveries()).as(ti.taskId()).isEqualTo(ti.taskId().startsWith("b") ? 2 : 1);
                if (ti.taskId().startsWith("b")) {
                    assertThat(ti.worker()).startsWith("second-worker");
                }
            }
            assertThat(broker.stats().duplicates()).isZero();
            assertThat(firstLife).extracting(TestConsumer.Execution::name)
                    .containsExactlyInAnyOrder("noop", "hold", "hold");
            assertThat(worker.executions()).extracting(TestConsumer.Execution::name)
                    .containsExactlyInAnyOrder("hold", "hold", "noop");
            String trace = GanttTrace.of(scheduler.run(runId).orElseThrow(), store.tries(runId),
                    System.currentTimeMillis());
            assertThat(trace)
                    .contains("\"ph\":\"X\"").contains("second-worker");
            assertThat(scheduler.lastError()).isNull();
        }
    }
}
