package dev.conclab.lab.experiments.basics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code ThreadPoolExecutor} vs {@code ProcessPoolExecutor}: one interface ({@code concurrent.futures.Executor}),
 * two very different engines.
 *
 * <p>The {@code executors.py} probe submits the same tasks to both pools, warmed up beforehand so pool start-up is
 * not counted: CPU-bound pure-Python tasks (threads share one GIL; processes each have their own), many tiny tasks
 * (a process pool pickles every task and result and ships it over a pipe), a lambda (a process pool must pickle
 * the callable; a lambda cannot be pickled), and a task that raises (both pools store the exception in the future
 * and re-raise it from {@code result()}). It also reads each pool's default {@code max_workers}.
 *
 * <p>On the JVM one {@code ExecutorService} of platform threads does both jobs: threads compute in parallel, and
 * nothing is copied between them. The baseline is the same CPU-bound tasks on one thread.
 *
 * <p>Run: {@code ./conclab run executors}. Expect the process pool to win on CPU-bound tasks and lose on tiny ones.
 */
public final class ExecutorKinds implements Experiment {

    static final ClaimSpec PY_DEFAULT_WORKERS = new ClaimSpec("py-default-workers",
            "ThreadPoolExecutor's default max_workers is min(32, os.cpu_count() + 4).");
    static final ClaimSpec PY_PROCESS_POOL_CPU = new ClaimSpec("py-process-pool-cpu",
            "ProcessPoolExecutor runs CPU-bound pure-Python work at least 1.5× faster than ThreadPoolExecutor"
                    + " (needs 2 cores).");
    static final ClaimSpec PY_PICKLE_REQUIRED = new ClaimSpec("py-pickle-required",
            "ProcessPoolExecutor cannot run a lambda: what it sends to a worker must be picklable.");
    static final ClaimSpec PY_TINY_TASKS = new ClaimSpec("py-tiny-tasks",
            "For many tiny tasks, ProcessPoolExecutor is slower than ThreadPoolExecutor.");
    static final ClaimSpec PY_EXCEPTION_AT_RESULT = new ClaimSpec("py-exception-at-result",
            "An exception raised in a task is re-raised by future.result(), in both executors.");
    static final ClaimSpec JVM_POOL_CPU = new ClaimSpec("jvm-pool-cpu",
            "A fixed JVM thread pool with one thread per core runs CPU-bound work at least 1.5× faster than one"
                    + " thread (needs 2 cores).");

    @Override
    public String id() {
        return "executors";
    }

    @Override
    public String title() {
        return "ThreadPoolExecutor vs ProcessPoolExecutor on CPU-bound, tiny, unpicklable and failing tasks";
    }

    @Override
    public String description() {
        return "Submits the same tasks to CPython's ThreadPoolExecutor and ProcessPoolExecutor — CPU-bound, tiny,"
                + " a lambda, a task that raises — reads their defaults, and runs the CPU-bound tasks on a JVM pool.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "CPU-bound tasks", 1, 10_000, 8, 2),
                new Param.IntParam("py-iterations", "pure-Python loop iterations per CPU-bound task", 10_000,
                        100_000_000, 1_500_000, 750_000),
                new Param.IntParam("tiny-tasks", "tiny tasks (identity function)", 10, 1_000_000, 5_000, 1_000),
                new Param.IntParam("task-ms", "JVM CPU-bound task, in ms of one thread on this machine", 1, 10_000,
                        200, 60));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_DEFAULT_WORKERS, PY_PROCESS_POOL_CPU, PY_PICKLE_REQUIRED, PY_TINY_TASKS,
                PY_EXCEPTION_AT_RESULT, JVM_POOL_CPU);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int workers = ctx.cores();
        int tasks = ctx.intParam("tasks");
        ctx.progress(0.05, "JVM: one thread, then a fixed pool");
        long rounds = CpuWork.roundsFor(ctx.intParam("task-ms"));
        Timing one = Measure.bestOf(ctx.repeats(), ctx, () -> {
            for (int i = 0; i < tasks; i++) {
                CpuWork.consume(rounds);
            }
        });
        Timing pool;
        try (ExecutorService executor = Executors.newFixedThreadPool(workers)) {
            pool = Measure.bestOf(ctx.repeats(), ctx, () -> {
                List<Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < tasks; i++) {
                    futures.add(executor.submit(() -> CpuWork.consume(rounds)));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            });
        }
        Table.Builder timings = Table.builder("The same tasks on each executor (best of " + ctx.repeats() + ")",
                        "tasks", "executor", "runtime", "best ms", "speed-up vs baseline")
                .row(tasks + " CPU-bound", "1 thread (baseline)", "JVM", one.bestMillis(), 1.0)
                .row(tasks + " CPU-bound", "fixed pool, " + workers + " threads", "JVM", pool.bestMillis(),
                        Measure.speedup(one, pool));
        if (ctx.requireCores(JVM_POOL_CPU, 2)) {
            ctx.claim(JVM_POOL_CPU, Verdict.atLeast(workers + "-thread pool vs 1 thread", Measure.speedup(one, pool),
                    1.5));
        }

        ctx.progress(0.4, "CPython: ThreadPoolExecutor and ProcessPoolExecutor");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("executors.py", List.of(), Duration.ofSeconds(120),
                "--tasks", Integer.toString(tasks),
                "--cpu-iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--tiny-tasks", Integer.toString(ctx.intParam("tiny-tasks")),
                "--workers", Integer.toString(workers),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_DEFAULT_WORKERS, PY_PROCESS_POOL_CPU,
                    PY_PICKLE_REQUIRED, PY_TINY_TASKS, PY_EXCEPTION_AT_RESULT);
            case ProbeOutcome.Ran ran -> python(ctx, ran.json(), timings, tasks, workers);
        }
        ctx.table(timings.build());
        ctx.progress(1, "done");
    }

    private static void python(RunContext ctx, JsonNode json, Table.Builder timings, int tasks, int workers) {
        JsonNode defaults = json.path("defaults");
        int threadDefault = defaults.path("thread_default_max_workers").asInt();
        int cpus = json.path("cpu_count").asInt();
        int documented = Math.min(32, cpus + 4);
        ctx.claim(PY_DEFAULT_WORKERS, Verdict.check(threadDefault == documented, String.format(
                "ThreadPoolExecutor()._max_workers = %d; min(32, os.cpu_count() + 4) = min(32, %d + 4) = %d",
                threadDefault, cpus, documented)));

        JsonNode cpu = json.path("cpu");
        double threadCpu = cpu.path("thread_pool_s").asDouble();
        double processCpu = cpu.path("process_pool_s").asDouble();
        timings.row(tasks + " CPU-bound", "ThreadPoolExecutor(" + workers + ")", "CPython", threadCpu * 1e3, 1.0)
                .row(tasks + " CPU-bound", "ProcessPoolExecutor(" + workers + ")", "CPython", processCpu * 1e3,
                        threadCpu / processCpu);
        if (ctx.requireCores(PY_PROCESS_POOL_CPU, 2)) {
            ctx.claim(PY_PROCESS_POOL_CPU, Verdict.atLeast("process pool vs thread pool", threadCpu / processCpu,
                    1.5));
        }

        JsonNode tiny = json.path("tiny");
        double threadTiny = tiny.path("thread_pool_s").asDouble();
        double processTiny = tiny.path("process_pool_s").asDouble();
        String tinyTasks = tiny.path("tasks").asInt() + " tiny";
        timings.row(tinyTasks, "ThreadPoolExecutor(" + workers + ")", "CPython", threadTiny * 1e3, 1.0)
                .row(tinyTasks, "ProcessPoolExecutor(" + workers + ")", "CPython", processTiny * 1e3,
                        threadTiny / processTiny);
        ctx.claim(PY_TINY_TASKS, Verdict.check(processTiny > threadTiny, String.format(
                "%s tasks: process pool %.1f ms, thread pool %.1f ms", tinyTasks, processTiny * 1e3,
                threadTiny * 1e3)));

        JsonNode lambda = json.path("lambda_in_process_pool");
        String error = lambda.path("error_type").asText("");
        String message = lambda.path("message").asText("");
        ctx.claim(PY_PICKLE_REQUIRED, Verdict.check(!error.isEmpty()
                        && message.toLowerCase(Locale.ROOT).contains("pickle"),
                error.isEmpty() ? "submitting a lambda raised nothing" : "future.result() raised " + error + ": "
                        + message));

        JsonNode exception = json.path("exception");
        boolean threadReraises = exception.path("thread_pool_reraises").asBoolean();
        boolean processReraises = exception.path("process_pool_reraises").asBoolean();
        ctx.claim(PY_EXCEPTION_AT_RESULT, Verdict.check(threadReraises && processReraises, String.format(
                "ValueError('boom') re-raised by result(): thread pool %s, process pool %s", threadReraises,
                processReraises)));
        ctx.table(Table.builder("CPython executors' defaults and behaviour", "question", "ThreadPoolExecutor",
                        "ProcessPoolExecutor")
                .row("default max_workers", threadDefault, defaults.path("process_default_max_workers").asInt())
                .row("submit(lambda: 1)", "runs", error.isEmpty() ? "runs" : error)
                .row("task raises ValueError", threadReraises ? "result() re-raises" : "lost",
                        processReraises ? "result() re-raises" : "lost")
                .build());
    }
}
