package dev.conclab.lab.experiments.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.demo.DemoTasks;
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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Celery's execution pools beside the {@code jobs} worker's: who runs CPU-bound tasks in parallel, and who overlaps
 * sleep-bound ones.
 *
 * <p><b>BASELINE:</b> one task at a time (Celery's {@code solo} pool; the {@code jobs} threads pool at concurrency
 * 1). <b>Variants</b>, at concurrency 2 unless said:
 * <ul>
 *   <li>CPython, real Celery 5.2 workers ({@code celery_model.py --mode pools}, a private redis-server as broker):
 *       {@code prefork} (billiard child processes, Celery's default) runs a CPU-bound group on two cores; {@code
 *       threads} runs it on two threads of one process, which take turns on the GIL, so no faster than {@code solo};
 *       both (and {@code gevent}, in the full run) overlap a sleep-bound group. The span of each group is taken on
 *       the worker's own clock, best of several groups.</li>
 *   <li>JVM, the {@code jobs} worker on an SQLite broker in a temporary directory: its {@code threads} pool runs the
 *       {@code cpu} task on two cores at once (no GIL); its {@code vthreads} pool at high concurrency overlaps
 *       hundreds of {@code sleep} tasks; its {@code processes} pool (child JVMs, prefork's counterpart) runs CPU
 *       tasks in parallel too, but every task's arguments and result cross a pipe: its per-task cost on no-op tasks
 *       is measured beside the threads pool's.</li>
 * </ul>
 *
 * <p>Run: {@code ./conclab run celery-pools}. Expect prefork ≈ 2× solo and threads ≈ 1× on CPU work in CPython;
 * ≈ 2× for the JVM's threads; sleep-bound groups ≈ 2× on every pool but solo; the virtual-thread batch in a few
 * hundred ms where one at a time would take tens of seconds.
 */
public final class CeleryPools implements Experiment {

    static final ClaimSpec PY_PREFORK_CPU = new ClaimSpec("py-prefork-cpu",
            "Celery's prefork pool runs CPU-bound tasks in parallel: at concurrency 2 a group finishes at least 1.3×"
                    + " sooner than on the solo pool (needs 2 cores).");
    static final ClaimSpec PY_THREADS_CPU = new ClaimSpec("py-threads-cpu",
            "Celery's threads pool does not: its threads take turns on the GIL, so a CPU-bound group finishes at"
                    + " most 1.2× sooner than on the solo pool (needs 2 cores).");
    static final ClaimSpec PY_SLEEP_OVERLAP = new ClaimSpec("py-sleep-overlap",
            "Every Celery pool but solo overlaps sleep-bound tasks: at concurrency 2 a group of them finishes at"
                    + " least 1.5× sooner than on the solo pool.");
    static final ClaimSpec PY_POOL_SHAPE = new ClaimSpec("py-pool-shape",
            "prefork ran the tasks in 2 processes, threads in 1 process on 2 threads, solo in 1 process on 1"
                    + " thread.");
    static final ClaimSpec JVM_THREADS_CPU = new ClaimSpec("jvm-threads-cpu",
            "The jobs worker's threads pool runs CPU-bound tasks in parallel, having no GIL: at concurrency 2 a"
                    + " batch finishes at least 1.5× sooner than at concurrency 1 (needs 2 cores).");
    static final ClaimSpec JVM_VTHREADS_SLEEP = new ClaimSpec("jvm-vthreads-sleep",
            "The jobs worker's virtual-thread pool overlaps hundreds of sleep-bound tasks: at concurrency equal to"
                    + " the batch, it finishes at least 10× sooner than one at a time would.");
    static final ClaimSpec JVM_PROCESS_COST = new ClaimSpec("jvm-process-cost",
            "A no-op task costs at least 1.5× more on the jobs worker's process pool than on its threads pool:"
                    + " arguments and result cross a pipe to a child JVM.");

    private static final int CONCURRENCY = 2;
    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(120);

    @Override
    public String id() {
        return "celery-pools";
    }

    @Override
    public String title() {
        return "Celery's pools (prefork, threads, solo) beside the jobs worker's (processes, threads, virtual threads)";
    }

    @Override
    public String description() {
        return "Runs CPU-bound and sleep-bound task groups on real Celery workers with each execution pool, and on"
                + " the jobs worker with each of its pools, and compares what each pool runs in parallel.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "CPU-bound tasks per group", 2, 64, 8, 4),
                new Param.IntParam("cpu-mrounds", "JVM cpu task: millions of xorshift rounds", 1, 10_000, 100, 25),
                new Param.IntParam("py-burn", "CPython burn task: loop iterations", 10_000, 100_000_000, 1_000_000,
                        1_000_000),
                new Param.IntParam("sleepers", "sleep tasks run at once on virtual threads", 10, 10_000, 1_000, 200),
                new Param.IntParam("nap-ms", "length of one sleep task, ms", 10, 10_000, 100, 100),
                new Param.IntParam("noops", "no-op tasks timed per pool", 10, 100_000, 400, 100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_PREFORK_CPU, PY_THREADS_CPU, PY_SLEEP_OVERLAP, PY_POOL_SHAPE, JVM_THREADS_CPU,
                JVM_VTHREADS_SLEEP, JVM_PROCESS_COST);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Task groups per pool (span on the worker's clock, best of "
                        + ctx.repeats() + ")", "runtime", "pool", "concurrency", "group", "span ms",
                "× sooner than one at a time", "processes", "threads");
        jvmSide(ctx, table);
        ctx.progress(0.5, "CPython: real Celery workers");
        celerySide(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private void jvmSide(RunContext ctx, Table.Builder table) throws Exception {
        int tasks = ctx.intParam("tasks");
        long rounds = ctx.intParam("cpu-mrounds") * 1_000_000L;
        int sleepers = ctx.intParam("sleepers");
        int napMs = ctx.intParam("nap-ms");
        int noops = ctx.intParam("noops");
        try (SqliteDir dir = SqliteDir.create("conclab-celery-pools-");
             Broker broker = Brokers.open(dir.url("pools.db"))) {
            JobClient client = new JobClient(broker, DemoTasks.REGISTRY);
            ctx.progress(0.05, "JVM: CPU-bound batches, 1 and 2 threads");
            double cpuOne = bestSpan(ctx, broker, client, PoolKind.THREADS, 1, tasks, "cpu", rounds);
            double cpuTwo = bestSpan(ctx, broker, client, PoolKind.THREADS, CONCURRENCY, tasks, "cpu", rounds);
            double cpuV = bestSpan(ctx, broker, client, PoolKind.VTHREADS, CONCURRENCY, tasks, "cpu", rounds);
            ctx.progress(0.2, "JVM: the process pool");
            double cpuP;
            double noopThreads;
            double noopProcesses;
            try (Worker w = worker(broker, PoolKind.PROCESSES, CONCURRENCY)) {
                cpuP = best(ctx, () -> JobBatches.run(client, tasks, BATCH_TIMEOUT, "cpu", rounds).spanSeconds());
                noopProcesses = best(ctx, () -> JobBatches.run(client, noops, BATCH_TIMEOUT, "noop").wallSeconds())
                        / noops;
            }
            try (Worker w = worker(broker, PoolKind.THREADS, CONCURRENCY)) {
                noopThreads = best(ctx, () -> JobBatches.run(client, noops, BATCH_TIMEOUT, "noop").wallSeconds())
                        / noops;
            }
            ctx.progress(0.35, "JVM: sleep-bound tasks on virtual threads");
            double sleepSpan = bestSpan(ctx, broker, client, PoolKind.VTHREADS, sleepers, sleepers, "sleep", napMs);
            double serial = sleepers * napMs / 1e3;

            table.row("JVM jobs", "threads", 1, tasks + " × cpu", cpuOne * 1e3, 1.0, 1, 1)
                    .row("JVM jobs", "threads", CONCURRENCY, tasks + " × cpu", cpuTwo * 1e3, cpuOne / cpuTwo, 1,
                            CONCURRENCY)
                    .row("JVM jobs", "vthreads", CONCURRENCY, tasks + " × cpu", cpuV * 1e3, cpuOne / cpuV, 1,
                            CONCURRENCY)
                    .row("JVM jobs", "processes", CONCURRENCY, tasks + " × cpu", cpuP * 1e3, cpuOne / cpuP,
                            CONCURRENCY, CONCURRENCY)
                    .row("JVM jobs", "vthreads", sleepers, sleepers + " × sleep " + napMs + " ms", sleepSpan * 1e3,
                            serial / sleepSpan, 1, sleepers);
            ctx.table(Table.builder("Per-task cost of a no-op task (submit → result, " + noops
                            + " tasks, concurrency " + CONCURRENCY + ", best of " + ctx.repeats() + ")", "pool",
                            "ms per task")
                    .row("threads", noopThreads * 1e3)
                    .row("processes", noopProcesses * 1e3)
                    .build());
            if (ctx.requireCores(JVM_THREADS_CPU, 2)) {
                ctx.claim(JVM_THREADS_CPU, Verdict.atLeast("threads pool, concurrency 2 vs 1", cpuOne / cpuTwo,
                        1.5));
            }
            ctx.claim(JVM_VTHREADS_SLEEP, Verdict.atLeast(sleepers + " sleep tasks on " + sleepers
                    + " virtual threads vs one at a time", serial / sleepSpan, 10));
            ctx.claim(JVM_PROCESS_COST, Verdict.atLeast("no-op per-task cost, processes vs threads",
                    noopProcesses / noopThreads, 1.5));
        }
    }

    private interface Span {
        double seconds() throws Exception;
    }

    private static double best(RunContext ctx, Span span) throws Exception {
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < ctx.repeats(); i++) {
            ctx.checkCancelled();
            best = Math.min(best, span.seconds());
        }
        return best;
    }

    private static double bestSpan(RunContext ctx, Broker broker, JobClient client, PoolKind pool, int concurrency,
            int n, String task, Object arg) throws Exception {
        try (Worker w = worker(broker, pool, concurrency)) {
            JobBatches.run(client, Math.min(n, 2), BATCH_TIMEOUT, task, arg); // warm-up: JIT, connections
            return best(ctx, () -> JobBatches.run(client, n, BATCH_TIMEOUT, task, arg).spanSeconds());
        }
    }

    private static Worker worker(Broker broker, PoolKind pool, int concurrency) {
        WorkerConfig config = WorkerConfig.builder().pool(pool).concurrency(concurrency)
                .registryClass(DemoTasks.class.getName()) // the process pool's children rebuild the registry
                .fetchWait(Duration.ofMillis(20)).build();
        return new Worker(broker, DemoTasks.REGISTRY, config).start();
    }

    private void celerySide(RunContext ctx, Table.Builder table) throws Exception {
        List<String> pools = new ArrayList<>(List.of("prefork", "threads", "solo"));
        if (!ctx.quick()) {
            pools.add("gevent");
        }
        List<String> args = new ArrayList<>(List.of("--mode", "pools", "--concurrency", String.valueOf(CONCURRENCY),
                "--tasks", String.valueOf(ctx.intParam("tasks")), "--burn", String.valueOf(ctx.intParam("py-burn")),
                "--nap-ms", String.valueOf(ctx.intParam("nap-ms")), "--repeat", String.valueOf(ctx.repeats() - 1),
                "--pools"));
        args.addAll(pools);
        List<String> modules = ctx.quick() ? List.of("celery", "redis") : List.of("celery", "redis", "gevent");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("celery_model.py", modules, Duration.ofSeconds(180),
                args.toArray(String[]::new));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_PREFORK_CPU, PY_THREADS_CPU, PY_SLEEP_OVERLAP, PY_POOL_SHAPE);
            case ProbeOutcome.Ran ran -> judgeCelery(ctx, table, ran.json(), pools);
        }
    }

    private static void judgeCelery(RunContext ctx, Table.Builder table, JsonNode json, List<String> pools) {
        JsonNode p = json.path("pools");
        String runtime = "Celery " + json.path("celery").asText();
        double soloCpu = p.path("solo").path("cpu").path("best_s").asDouble();
        double soloIo = p.path("solo").path("io").path("best_s").asDouble();
        int tasks = json.path("tasks").asInt();
        List<String> overlap = new ArrayList<>();
        double worstOverlap = Double.POSITIVE_INFINITY;
        for (String pool : pools) {
            JsonNode cpu = p.path(pool).path("cpu");
            JsonNode io = p.path(pool).path("io");
            int concurrency = pool.equals("solo") ? 1 : CONCURRENCY;
            table.row(runtime, pool, concurrency, tasks + " × burn", cpu.path("best_s").asDouble() * 1e3,
                            soloCpu / cpu.path("best_s").asDouble(), cpu.path("processes").asInt(),
                            cpu.path("threads").asInt())
                    .row(runtime, pool, concurrency, tasks + " × sleep " + json.path("nap_ms").asInt() + " ms",
                            io.path("best_s").asDouble() * 1e3, soloIo / io.path("best_s").asDouble(),
                            io.path("processes").asInt(), io.path("threads").asInt());
            if (!pool.equals("solo")) {
                double ratio = soloIo / io.path("best_s").asDouble();
                worstOverlap = Math.min(worstOverlap, ratio);
                overlap.add(String.format("%s %.2f×", pool, ratio));
            }
        }
        double preforkCpu = soloCpu / p.path("prefork").path("cpu").path("best_s").asDouble();
        double threadsCpu = soloCpu / p.path("threads").path("cpu").path("best_s").asDouble();
        if (ctx.requireCores(PY_PREFORK_CPU, 2)) {
            ctx.claim(PY_PREFORK_CPU, Verdict.atLeast("prefork vs solo, CPU-bound group", preforkCpu, 1.3));
        }
        if (ctx.requireCores(PY_THREADS_CPU, 2)) {
            ctx.claim(PY_THREADS_CPU, Verdict.atMost("threads vs solo, CPU-bound group", threadsCpu, 1.2));
        }
        ctx.claim(PY_SLEEP_OVERLAP, Verdict.check(worstOverlap >= 1.5,
                "sleep-bound group vs solo: " + String.join(", ", overlap) + " (threshold 1.5×)"));
        int preforkProcs = p.path("prefork").path("cpu").path("processes").asInt();
        int threadsProcs = p.path("threads").path("cpu").path("processes").asInt();
        int threadsThreads = p.path("threads").path("cpu").path("threads").asInt();
        int soloProcs = p.path("solo").path("cpu").path("processes").asInt();
        int soloThreads = p.path("solo").path("cpu").path("threads").asInt();
        ctx.claim(PY_POOL_SHAPE, Verdict.check(preforkProcs == 2 && threadsProcs == 1 && threadsThreads == 2
                        && soloProcs == 1 && soloThreads == 1,
                String.format("prefork %d processes; threads %d process(es), %d threads; solo %d process(es), %d"
                        + " thread(s)", preforkProcs, threadsProcs, threadsThreads, soloProcs, soloThreads)));
    }
}
