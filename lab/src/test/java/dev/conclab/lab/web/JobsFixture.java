package dev.conclab.lab.web;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.client.SubmitOptions;
import dev.conclab.jobs.dag.DagScheduler;
import dev.conclab.jobs.dag.SchedulerConfig;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.lab.jobs.JobsStores;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Jobs stores made for a test, in a folder of its own: a SQLite broker and DAG store filled by an in-process worker
 * ({@value #WORKER}) and DAG scheduler, both stopped before {@link #make} returns. In the stores: {@code add} succeeded,
 * {@code fail-always} dead-lettered after its retries, a {@code sleep} waiting in queue {@value #WAITING_QUEUE} (no
 * worker consumes it), and {@code tinyRuns} runs of the two-task DAG {@code tiny} ({@code first} then
 * {@code second}), made one after the other; the DAG {@code idle} has no run.
 *
 * @param stores  where the stores are (give it to {@link WebLab#start} or the CLI)
 * @param deadId  the dead-lettered task's id
 * @param tinyRuns the ids of the {@code tiny} runs, oldest first
 */
record JobsFixture(JobsStores stores, String deadId, List<String> tinyRuns) {

    static final String WORKER = "web-test-worker";
    static final String WAITING_QUEUE = "reports";
    static final Duration WAIT = Duration.ofSeconds(60);

    /** Makes the stores under {@code dir} (blocks until every task and run has ended; at most {@link #WAIT} each). */
    static JobsFixture make(Path dir, int tinyRuns) throws Exception {
        if (tinyRuns < 0) {
            throw new IllegalArgumentException("tinyRuns must be >= 0, got " + tinyRuns);
        }
        Path dags = Files.createDirectories(dir.resolve("dags"));
        Files.writeString(dags.resolve("tiny.yaml"), """
                dag_id: tiny
                tasks:
                  - id: first
                    task: add
                    args: [1, 2]
                  - id: second
                    task: echo
                    args: ["<b>done</b>"]
                    upstream: [first]
                """);
        Files.writeString(dags.resolve("idle.yaml"), "dag_id: idle\ntasks:\n  - id: only\n    task: noop\n");
        JobsStores stores = new JobsStores("sqlite:" + dir.resolve("jobs.db"), dir.resolve("dags.db"), dags);

        try (Broker broker = Brokers.open(stores.brokerUrl());
             DagStore store = DagStore.open(stores.dagStore());
             Worker worker = new Worker(broker, DemoTasks.REGISTRY, WorkerConfig.builder().consumer(WORKER)
                     .concurrency(4).fetchWait(Duration.ofMillis(20)).build()).start();
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), stores.dags(),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(10)))) {
            JobClient client = new JobClient(broker, DemoTasks.REGISTRY);
            String sum = client.submit("add", 2, 3);
            String dead = client.submit("fail-always");
            client.submit("sleep", SubmitOptions.builder().queue(WAITING_QUEUE).build(), 10);
            expect(client.await(sum, WAIT).state(), TaskState.SUCCESS, "add");
            expect(client.await(dead, WAIT).state(), TaskState.FAILURE, "fail-always");
            scheduler.start();
            List<String> runs = new ArrayList<>();
            for (int i = 0; i < tinyRuns; i++) {
                String id = scheduler.trigger("tiny", Map.of()).runId();
                awaitEnd(scheduler, id);
                runs.add(id);
            }
            return new JobsFixture(stores, dead, List.copyOf(runs));
        }
    }

    private static void expect(TaskState actual, TaskState expected, String task) {
        if (actual != expected) {
            throw new IllegalStateException("the fixture's task " + task + " ended " + actual + ", not " + expected);
        }
    }

    /**
     * Waits for the scheduler's own thread to end the run. The run's end is written by that thread with no event to
     * wait on, so its store is polled (bounded by {@link #WAIT}); nothing is ordered by the polling.
     */
    private static void awaitEnd(DagScheduler scheduler, String id) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!scheduler.run(id).orElseThrow().state().isFinal()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the DAG run " + id + " did not end within " + WAIT
                        + "; last error: " + scheduler.lastError());
            }
            LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
        }
    }
}
