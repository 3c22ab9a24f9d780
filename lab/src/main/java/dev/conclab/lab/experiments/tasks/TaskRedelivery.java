package dev.conclab.lab.experiments.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A worker killed with SIGKILL in the middle of a task: is the task lost, or run again, and when?
 *
 * <p><b>BASELINE</b> (Broken): Celery's default, {@code task_acks_late} off. The worker acknowledges a message when
 * the task <i>starts</i>, so a worker that dies mid-task takes the task with it: a second worker, started after the
 * visibility timeout, never sees it. <b>Variants:</b>
 * <ul>
 *   <li>Celery with {@code task_acks_late} on: the message stays unacknowledged while the task runs; kombu's Redis
 *       transport puts it back in the queue once its visibility timeout has passed, but only when a worker starts
 *       ({@code on_poll_init}) or on a sweep that acts on every tenth call of a 10 s timer, so about every 100 s. The
 *       probe starts the second worker after the timeout, which is when the task comes back.</li>
 *   <li>The {@code jobs} worker (late acknowledgement always): a worker JVM ({@code WorkerMain}) runs a task that
 *       hangs on its first delivery; once the broker's record says STARTED on that worker — the kill is forced
 *       mid-task, not timed — a second worker starts in this JVM and the first is killed with SIGKILL. The second
 *       worker's own {@code reserve} calls reclaim the lapsed reservation: no restart, no sweep. On SQLite in a
 *       temporary directory, and on a private {@code redis-server} (Streams, a lapsed entry taken over with XCLAIM) when one is installed.</li>
 * </ul>
 *
 * <p>Run: {@code ./conclab run task-redelivery}. Expect the Celery default to lose the task, acks_late to finish it
 * about a second after the second worker starts, and the jobs worker to finish it about one visibility timeout
 * after the kill (the kill follows the task's start at once, while its reservation is fresh; the heartbeat keeps
 * it at most one timeout away), with one result and two deliveries.
 */
public final class TaskRedelivery implements Experiment {

    static final ClaimSpec PY_ACKS_EARLY_LOST = new ClaimSpec("py-acks-early-lost",
            "Broken: with Celery's default (task_acks_late off) a task whose worker is killed with SIGKILL mid-task"
                    + " is lost: a worker started after the visibility timeout never runs it.");
    static final ClaimSpec PY_ACKS_LATE_REDELIVERED = new ClaimSpec("py-acks-late-redelivered",
            "With task_acks_late on, the task finishes once a worker starts after the visibility timeout.");
    static final ClaimSpec JVM_SQLITE = new ClaimSpec("jvm-sqlite",
            "On the jobs SQLite broker, a task whose worker JVM is killed with SIGKILL mid-task is redelivered to a"
                    + " worker already running and completes within 2× the visibility timeout, with exactly one"
                    + " result and 2 deliveries.");
    static final ClaimSpec JVM_REDIS = new ClaimSpec("jvm-redis",
            "On the jobs Redis broker, the same kill is redelivered and completed within 2× the visibility timeout,"
                    + " with exactly one result and 2 deliveries.");

    private static final double CELERY_VISIBILITY_S = 1.0;
    private static final double CELERY_RESTART_AFTER_S = 0.3;
    private static final int CELERY_NAP_MS = 1_000;

    @Override
    public String id() {
        return "task-redelivery";
    }

    @Override
    public String title() {
        return "kill -9 mid-task: Celery with acks early and late, and the jobs worker on SQLite and Redis";
    }

    @Override
    public String description() {
        return "Kills a task-queue worker with SIGKILL while it runs a task, then checks whether another worker runs"
                + " the task, how soon, and how many times: real Celery workers (task_acks_late off and on) and the"
                + " jobs worker on its SQLite and Redis brokers.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("visibility-ms", "the jobs workers' visibility timeout, ms", 300, 60_000,
                3_000, 2_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_ACKS_EARLY_LOST, PY_ACKS_LATE_REDELIVERED, JVM_SQLITE, JVM_REDIS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Duration visibility = Duration.ofMillis(ctx.intParam("visibility-ms"));
        Table.Builder table = Table.builder("A worker killed with SIGKILL mid-task", "system", "acknowledgement",
                "visibility s", "second worker", "finished", "kill → result s", "deliveries", "results");

        ctx.progress(0.05, "jobs on SQLite");
        try (SqliteDir dir = SqliteDir.create("conclab-redelivery-")) {
            jvmKill(ctx, table, JVM_SQLITE, "jobs · SQLite", dir.url("jobs.db"), visibility);
        }
        ctx.progress(0.25, "jobs on Redis");
        Optional<Path> redisServer = TaskLabRedis.find();
        if (redisServer.isEmpty()) {
            ctx.claim(JVM_REDIS, Verdict.skipped(TaskLabRedis.MISSING));
        } else {
            try (TaskLabRedis redis = TaskLabRedis.start(redisServer.get())) {
                jvmKill(ctx, table, JVM_REDIS, "jobs · Redis", redis.url(), visibility);
            }
        }

        ctx.progress(0.45, "Celery, task_acks_late off");
        celery(ctx, table, false);
        ctx.progress(0.75, "Celery, task_acks_late on");
        celery(ctx, table, true);
        ctx.table(table.build());
        ctx.note("kombu 5.2's Redis transport restores unacknowledged messages past their visibility timeout when a"
                + " worker starts, and otherwise from a 10 s timer whose restore_visible acts on every tenth call:"
                + " about every 100 s (kombu/transport/redis.py, restore_visible and maybe_restore_messages).");
        ctx.progress(1, "done");
    }

    private static void jvmKill(RunContext ctx, Table.Builder table, ClaimSpec claim, String system, String url,
            Duration visibility) throws Exception {
        try (Broker broker = Brokers.open(url)) {
            JobClient client = new JobClient(broker, TaskLabTasks.REGISTRY);
            try (WorkerJvm victim = WorkerJvm.start(ctx, url, "victim", PoolKind.VTHREADS, 1, visibility)) {
                // A first task warms the child up (class loading, JIT), so that a loaded machine does not stall it
                // past its heartbeat while it starts the task that matters.
                client.await(client.submit("noop"), Duration.ofSeconds(30));
                long resultsBefore = broker.stats().succeeded(); // the warm-up's
                String id = client.submit("hang-first-delivery");
                awaitStartedOn(ctx, client, id, victim.consumer());
                WorkerConfig rescuerConfig = WorkerConfig.builder().consumer("rescuer").pool(PoolKind.VTHREADS)
                        .concurrency(1).visibility(visibility).fetchWait(Duration.ofMillis(20)).build();
                try (Worker rescuer = new Worker(broker, TaskLabTasks.REGISTRY, rescuerConfig).start()) {
                    long killedAt = System.nanoTime();
                    victim.kill();
                    TaskRecord done;
                    try {
                        done = client.await(id, visibility.multipliedBy(5).plusSeconds(10));
                    } catch (TimeoutException e) {
                        done = client.status(id).orElseThrow();
                    }
                    double took = (System.nanoTime() - killedAt) / 1e9;
                    long results = broker.stats().succeeded() - resultsBefore;
                    boolean finished = done.state() == TaskState.SUCCESS;
                    table.row(system, "late (after the task)", visibility.toMillis() / 1e3,
                            "running before the kill", finished ? "yes" : "no (" + done.state() + ")",
                            finished ? (Object) took : "—", done.deliveries(), results);
                    ctx.claim(claim, Verdict.check(finished && took < 2.0 * visibility.toMillis() / 1e3
                                    && results == 1 && done.deliveries() == 2
                                    && "rescuer".equals(done.worker())
                                    && "\"done on delivery 2\"".equals(done.resultJson()),
                            String.format("%s after %.2f s (visibility %.2f s, bound %.2f s) on %s; result %s;"
                                            + " deliveries %d; results %d", done.state(), took,
                                    visibility.toMillis() / 1e3, 2.0 * visibility.toMillis() / 1e3, done.worker(),
                                    done.resultJson(), done.deliveries(), results)));
                }
            }
        }
    }

    /** Waits (polling the record: the child JVM has no other way to tell) until the task runs on {@code worker}. */
    private static void awaitStartedOn(RunContext ctx, JobClient client, String id, String worker)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ctx.checkCancelled();
            Optional<TaskRecord> r = client.status(id);
            if (r.isPresent() && r.get().state() == TaskState.STARTED && worker.equals(r.get().worker())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ProbeException("the task never started on " + worker + ": " + r.orElse(null));
            }
            Thread.sleep(5);
        }
    }

    private static void celery(RunContext ctx, Table.Builder table, boolean acksLate) throws Exception {
        ClaimSpec claim = acksLate ? PY_ACKS_LATE_REDELIVERED : PY_ACKS_EARLY_LOST;
        // With acks late the redelivered nap runs once more: wait long enough for it; with acks early, wait as
        // long as a redelivered run would have needed, then some.
        double wait = CELERY_NAP_MS / 1e3 + 2.0;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("celery_model.py", List.of("celery", "redis"),
                Duration.ofSeconds(120), "--mode", "redelivery", "--acks-late", acksLate ? "on" : "off",
                "--visibility", String.valueOf(CELERY_VISIBILITY_S), "--restart-after",
                String.valueOf(CELERY_RESTART_AFTER_S), "--nap-ms", String.valueOf(CELERY_NAP_MS), "--wait",
                String.valueOf(wait));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, claim);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                boolean finished = json.path("finished").asBoolean();
                String state = json.path("state_at_end").asText();
                double seconds = json.path("seconds_after_kill").isNumber()
                        ? json.path("seconds_after_kill").asDouble() : Double.NaN;
                table.row("Celery " + json.path("celery").asText(), acksLate ? "late (acks_late on)"
                                : "early (default)", json.path("visibility_s").asDouble(),
                        String.format("started %.1f s after the kill", json.path("second_worker_started_after_s")
                                .asDouble()), finished ? "yes" : "no (still " + state + ")", finished ? (Object) seconds : "—",
                        "—", finished ? 1 : 0);
                String detail = String.format("finished: %s, state at the end: %s, %s", finished, state,
                        finished ? String.format("%.2f s after the kill", seconds)
                                : String.format("waited %.1f s after the second worker started", wait));
                ctx.claim(claim, Verdict.check(acksLate ? finished : !finished && state.equals("STARTED"), detail));
            }
        }
    }
}
