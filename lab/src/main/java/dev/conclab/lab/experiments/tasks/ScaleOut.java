package dev.conclab.lab.experiments.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Scaling out: worker processes that share one broker, and where a rate limit holds.
 *
 * <p><b>(a) Rate limits.</b> BASELINE (Broken for a limit meant for the whole system): Celery's {@code rate_limit},
 * which each worker enforces on its own (a token bucket in the worker), so two workers start up to twice the limit
 * ({@code celery_model.py --mode ratelimit}, two solo workers, {@code rate_limit="10/s"}). Variant: the {@code jobs}
 * worker, which takes permits from a token bucket kept in the broker; two workers, each with its own broker
 * connection to one SQLite file, share it, so the peak in any one-second window stays within the limit plus the
 * burst.
 *
 * <p><b>(b) Work spread over worker processes.</b> BASELINE: one worker JVM ({@code WorkerMain}, a threads pool of
 * one) runs a batch of CPU-bound {@code cpu} tasks. Variant: a second worker JVM joins on the same broker (a private
 * {@code redis-server} when installed, else an SQLite file: Redis is how workers on other machines would share
 * it). Each takes a share of the batch, and with two cores the batch finishes sooner; on two machines, the same
 * would hold with the broker's address in place of the loopback one.
 *
 * <p>Run: {@code ./conclab run scale-out}. Expect Celery's peak near 20 starts per second for a 10/s limit, the jobs
 * peak at 10 or 11, both worker JVMs running about half of the batch, and about 2× with two idle cores.
 */
public final class ScaleOut implements Experiment {

    static final ClaimSpec PY_RATE_PER_WORKER = new ClaimSpec("py-rate-per-worker",
            "Celery's rate_limit is per worker: with 2 workers and rate_limit 10/s, the most task starts in any"
                    + " one second reach at least 1.5× the limit.");
    static final ClaimSpec JVM_RATE_SHARED = new ClaimSpec("jvm-rate-shared",
            "The jobs rate limit is held in the broker across workers: with 2 workers and a limit of 10/s (burst 1),"
                    + " the most task starts in any one second stay at or below the limit plus the burst.");
    static final ClaimSpec JVM_WORK_SHARED = new ClaimSpec("jvm-work-shared",
            "Two worker JVMs on one broker each run a share of a batch (at least a quarter of it).");
    static final ClaimSpec JVM_SCALE_OUT = new ClaimSpec("jvm-scale-out",
            "A CPU-bound batch finishes at least 1.4× sooner on 2 worker JVMs than on 1 (needs 2 cores).");

    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration VISIBILITY = Duration.ofSeconds(30);

    @Override
    public String id() {
        return "scale-out";
    }

    @Override
    public String title() {
        return "Scaling out over worker processes: shared work, and rate limits per worker vs per system";
    }

    @Override
    public String description() {
        return "Runs a rate-limited task on two Celery workers and on two jobs workers, and counts the peak starts in"
                + " one second; then spreads a CPU-bound batch over one and two worker JVMs sharing one broker.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("limited", "rate-limited tasks submitted", 12, 10_000, 40, 20),
                new Param.IntParam("tasks", "CPU-bound tasks per batch", 2, 1_000, 16, 8),
                new Param.IntParam("cpu-mrounds", "cpu task: millions of xorshift rounds", 1, 10_000, 100, 25));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_RATE_PER_WORKER, JVM_RATE_SHARED, JVM_WORK_SHARED, JVM_SCALE_OUT);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int limited = ctx.intParam("limited");
        Table.Builder rates = Table.builder("Rate limit 10/s, 2 workers: peak starts in any one second",
                "system", "where the limit lives", "tasks", "workers that ran some", "peak starts in 1 s",
                "limit");
        ctx.progress(0.05, "jobs: a rate limit shared through the broker");
        jobsRate(ctx, rates, limited);
        ctx.progress(0.3, "jobs: one and two worker JVMs");
        spread(ctx);
        ctx.progress(0.6, "Celery: rate_limit on two workers");
        celeryRate(ctx, rates, limited);
        ctx.table(rates.build());
        ctx.progress(1, "done");
    }

    private static void jobsRate(RunContext ctx, Table.Builder rates, int n) throws Exception {
        try (SqliteDir dir = SqliteDir.create("conclab-scale-out-rate-");
             Broker client = Brokers.open(dir.url("jobs.db"));
             Broker brokerA = Brokers.open(dir.url("jobs.db"));
             Broker brokerB = Brokers.open(dir.url("jobs.db"));
             Worker a = worker(brokerA, "a");
             Worker b = worker(brokerB, "b")) {
            JobBatches.Batch batch = JobBatches.run(new JobClient(client, TaskLabTasks.REGISTRY), n, BATCH_TIMEOUT,
                    "limited");
            long[] starts = batch.records().stream().mapToLong(TaskRecord::startedMillis).sorted().toArray();
            int peak = peakInOneSecond(starts);
            int limit = TaskLabTasks.RATE_PER_SECOND + TaskLabTasks.BURST;
            Map<String, Long> per = batch.perWorker();
            rates.row("jobs · SQLite", "the broker (shared bucket)", n, per.size(), peak,
                    TaskLabTasks.RATE_PER_SECOND + "/s, burst " + TaskLabTasks.BURST);
            ctx.claim(JVM_RATE_SHARED, Verdict.check(peak <= limit && per.size() == 2, String.format(
                    "peak %d starts in one second (bound %d); tasks per worker %s", peak, limit, per)));
        }
    }

    private static Worker worker(Broker broker, String consumer) {
        return new Worker(broker, TaskLabTasks.REGISTRY, WorkerConfig.builder().consumer(consumer)
                .pool(PoolKind.VTHREADS).concurrency(2).fetchWait(Duration.ofMillis(20)).build()).start();
    }

    /** The most timestamps in any half-open window of 1000 ms that starts at one of them. */
    static int peakInOneSecond(long[] sortedMillis) {
        int peak = 0;
        int j = 0;
        for (int i = 0; i < sortedMillis.length; i++) {
            while (j < sortedMillis.length && sortedMillis[j] < sortedMillis[i] + 1_000) {
                j++;
            }
            peak = Math.max(peak, j - i);
        }
        return peak;
    }

    private static void spread(RunContext ctx) throws Exception {
        Optional<Path> redisServer = TaskLabRedis.find();
        if (redisServer.isPresent()) {
            try (TaskLabRedis redis = TaskLabRedis.start(redisServer.get())) {
                spread(ctx, "jobs · Redis", redis.url());
            }
        } else {
            ctx.note("redis-server is not installed, so the worker JVMs share an SQLite file instead");
            try (SqliteDir dir = SqliteDir.create("conclab-scale-out-")) {
                spread(ctx, "jobs · SQLite", dir.url("jobs.db"));
            }
        }
    }

    private static void spread(RunContext ctx, String system, String url) throws Exception {
        int tasks = ctx.intParam("tasks");
        long rounds = ctx.intParam("cpu-mrounds") * 1_000_000L;
        try (Broker broker = Brokers.open(url);
             WorkerJvm first = WorkerJvm.start(ctx, url, "jvm-1", PoolKind.THREADS, 1, VISIBILITY)) {
            JobClient client = new JobClient(broker, TaskLabTasks.REGISTRY);
            JobBatches.run(client, 2, BATCH_TIMEOUT, "cpu", rounds); // warm-up: JIT in the child
            double one = Double.POSITIVE_INFINITY;
            for (int i = 0; i < ctx.repeats(); i++) {
                one = Math.min(one, JobBatches.run(client, tasks, BATCH_TIMEOUT, "cpu", rounds).spanSeconds());
            }
            double two = Double.POSITIVE_INFINITY;
            Map<String, Long> share = Map.of();
            try (WorkerJvm second = WorkerJvm.start(ctx, url, "jvm-2", PoolKind.THREADS, 1, VISIBILITY)) {
                JobBatches.run(client, 4, BATCH_TIMEOUT, "cpu", rounds); // warm-up: JIT in the second child
                for (int i = 0; i < ctx.repeats(); i++) {
                    JobBatches.Batch batch = JobBatches.run(client, tasks, BATCH_TIMEOUT, "cpu", rounds);
                    if (batch.spanSeconds() < two) {
                        two = batch.spanSeconds();
                        share = batch.perWorker();
                    }
                }
            }
            ctx.table(Table.builder("A CPU-bound batch (" + tasks + " × cpu) on worker JVMs sharing one broker"
                            + " (span on the workers' clock, best of " + ctx.repeats() + ")", "broker",
                            "worker JVMs", "span ms", "speed-up", "tasks per worker (fastest run)")
                    .row(system, 1, one * 1e3, 1.0, "jvm-1=" + tasks)
                    .row(system, 2, two * 1e3, one / two, share.toString())
                    .build());
            long least = share.values().stream().mapToLong(Long::longValue).min().orElse(0);
            ctx.claim(JVM_WORK_SHARED, Verdict.check(share.size() == 2 && least * 4 >= tasks,
                    "tasks per worker JVM: " + share + " of " + tasks));
            if (ctx.requireCores(JVM_SCALE_OUT, 2)) {
                ctx.claim(JVM_SCALE_OUT, Verdict.atLeast("2 worker JVMs vs 1", one / two, 1.4));
            }
        }
    }

    private static void celeryRate(RunContext ctx, Table.Builder rates, int n) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("celery_model.py", List.of("celery", "redis"),
                Duration.ofSeconds(120), "--mode", "ratelimit", "--rate",
                String.valueOf(TaskLabTasks.RATE_PER_SECOND), "--tasks", String.valueOf(n));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_RATE_PER_WORKER);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                int peak = json.path("peak_starts_in_1s").asInt();
                int rate = json.path("rate_limit_per_s").asInt();
                rates.row("Celery " + json.path("celery").asText(), "each worker (its own bucket)", n,
                        json.path("workers_that_ran").asInt(), peak, rate + "/s");
                ctx.claim(PY_RATE_PER_WORKER, Verdict.atLeast("peak starts in one second / rate_limit",
                        (double) peak / rate, 1.5));
            }
        }
    }
}
