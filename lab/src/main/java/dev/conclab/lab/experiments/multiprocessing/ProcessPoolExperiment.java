package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;
import dev.conclab.toolkit.process.pool.WorkerCrashedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * How a process pool hands out work, and what a killed worker does to it: the toolkit's {@link ProcessPool}
 * (worker JVMs) beside CPython's {@code multiprocessing.Pool} and {@code ProcessPoolExecutor}.
 *
 * <ol>
 *   <li><b>BASELINE — ordering.</b> Two tasks on two workers, one chunk each, where "first" cannot finish before
 *       "second" has (forced, not timed). For {@code map}, "first" waits for a file that "second" creates; {@code
 *       map} still returns {@code [first, second]}. For {@code imapUnordered}, "first" waits for a file the
 *       experiment creates only after the iterator has yielded a result, which therefore can only be
 *       {@code second}.</li>
 *   <li><b>A worker killed mid-task.</b> The task writes its worker's pid to a file (the "I have started" signal),
 *       then hangs; the experiment kills that pid with SIGKILL. The ProcessPool fails that one task with a
 *       {@link WorkerCrashedException} naming pid and exit status, starts a replacement and serves the next task.
 *       CPython's two pools differ here: {@code multiprocessing.Pool} replaces the worker but the task's result
 *       never arrives (a {@code get} without a timeout would hang for ever), while {@code ProcessPoolExecutor}
 *       fails the task with {@code BrokenProcessPool} and refuses all later work.</li>
 *   <li><b>maxTasksPerChild = 1.</b> Every task runs in a fresh worker: as many pids as tasks.</li>
 *   <li><b>Chunking.</b> Tiny tasks (an identity function) through {@code map} with chunksize 1 and chunksize 100,
 *       best of several runs: one round trip per chunk, so per-task cost drops with the chunk size.</li>
 * </ol>
 * The table also reports the measured start-up time of a worker JVM (launch to its READY frame).
 *
 * <p>Run: {@code ./conclab run process-pool}. Expect map in order and imapUnordered out of order on both sides; a
 * crash error naming the pid and status 137 on the JVM, TimeoutError vs BrokenProcessPool on CPython; one pid per
 * task with a task limit of 1; chunksize 100 well over 2× cheaper per tiny task than chunksize 1.
 */
public final class ProcessPoolExperiment implements Experiment {

    static final ClaimSpec JVM_MAP_ORDERED = new ClaimSpec("jvm-map-ordered",
            "ProcessPool.map returns results in argument order even when the first task finishes last;"
                    + " imapUnordered yields them in completion order.");
    static final ClaimSpec JVM_KILLED_WORKER = new ClaimSpec("jvm-killed-worker",
            "A ProcessPool worker killed with SIGKILL mid-task fails only that task, with an error naming the"
                    + " worker's pid and exit status; the pool replaces the worker and keeps serving.");
    static final ClaimSpec JVM_MAX_TASKS = new ClaimSpec("jvm-max-tasks-per-child",
            "With maxTasksPerChild=1, every ProcessPool task runs in a fresh worker process.");
    static final ClaimSpec JVM_CHUNKING = new ClaimSpec("jvm-chunking",
            "Chunking amortises the round trip to a worker: tiny tasks cost at least 2× less each with chunksize"
                    + " 100 than with chunksize 1.");
    static final ClaimSpec PY_MAP_ORDERED = new ClaimSpec("py-map-ordered",
            "multiprocessing.Pool.map returns results in argument order even when the first task finishes last;"
                    + " imap_unordered yields them in completion order.");
    static final ClaimSpec PY_POOL_KILLED = new ClaimSpec("py-pool-killed-worker",
            "When a multiprocessing.Pool worker is killed mid-task, the pool starts a replacement and keeps"
                    + " serving, but the killed task's result never arrives: get with a timeout raises TimeoutError.");
    static final ClaimSpec PY_EXECUTOR_BROKEN = new ClaimSpec("py-executor-broken",
            "When a ProcessPoolExecutor worker is killed mid-task, the task fails with BrokenProcessPool and the"
                    + " executor is broken: later submissions fail too.");
    static final ClaimSpec PY_MAX_TASKS = new ClaimSpec("py-maxtasksperchild",
            "With maxtasksperchild=1, every multiprocessing.Pool task runs in a fresh worker process.");

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final int CHUNK = 100;

    @Override
    public String id() {
        return "process-pool";
    }

    @Override
    public String title() {
        return "Process pools: ordering, a killed worker, maxtasksperchild, chunking";
    }

    @Override
    public String description() {
        return "Runs the toolkit's ProcessPool of worker JVMs and CPython's multiprocessing.Pool and"
                + " ProcessPoolExecutor side by side: map vs unordered results (forced), a worker killed mid-task,"
                + " one task per worker, and the per-task cost of chunking.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "tasks run with a limit of one task per worker", 2, 32, 6, 3),
                new Param.IntParam("tiny-tasks", "tiny tasks mapped to time chunking", 200, 1_000_000, 20_000, 4_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_MAP_ORDERED, JVM_KILLED_WORKER, JVM_MAX_TASKS, JVM_CHUNKING, PY_MAP_ORDERED,
                PY_POOL_KILLED, PY_EXECUTOR_BROKEN, PY_MAX_TASKS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Process pools: ordering, a killed worker, one task per worker, chunking",
                "runtime", "case", "outcome", "detail");
        Path dir = Files.createTempDirectory("conclab-process-pool");
        try {
            ctx.progress(0.05, "starting a ProcessPool of 2 worker JVMs");
            List<Duration> startups = new ArrayList<>();
            try (ProcessPool pool = ProcessPool.of(2)) {
                ordering(ctx, pool, dir, table);
                ctx.progress(0.25, "killing a worker mid-task");
                killedWorker(ctx, pool, dir, table);
                ctx.progress(0.4, "timing chunk sizes");
                chunking(ctx, pool, table);
                startups.addAll(pool.startupTimes());
            }
            ctx.progress(0.55, "maxTasksPerChild=1");
            try (ProcessPool pool = ProcessPool.builder().workers(1).maxTasksPerChild(1).build()) {
                maxTasks(ctx, pool, table);
                startups.addAll(pool.startupTimes());
            }
            startups.sort(Comparator.naturalOrder());
            table.row("JVM", "worker start-up (launch → READY)", startups.size() + " workers started",
                    String.format("min %d ms, median %d ms, max %d ms (options %s)", startups.getFirst().toMillis(),
                            startups.get(startups.size() / 2).toMillis(), startups.getLast().toMillis(),
                            String.join(" ", ProcessPool.DEFAULT_WORKER_OPTIONS)));
        } finally {
            deleteTree(dir);
        }
        ctx.progress(0.7, "CPython: multiprocessing.Pool and ProcessPoolExecutor");
        runProbe(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void ordering(RunContext ctx, ProcessPool pool, Path dir, Table.Builder table) throws Exception {
        TaskRef step = TaskRef.of(Tasks.class, "step");
        List<Object> mapped = pool.map(step, pair(dir.resolve("gate-map")), 1);
        // "first" waits for a gate that this thread opens only after the iterator has yielded a result: that
        // result can only be "second".
        Path gate = dir.resolve("gate-unordered");
        Iterator<Object> it = pool.imapUnordered(step, List.of(List.of("await", gate.toString(), "first"),
                List.of("plain", "", "second")), 1);
        List<Object> unordered = new ArrayList<>();
        unordered.add(it.next());
        Files.writeString(gate, "open");
        unordered.add(it.next());
        boolean holds = mapped.equals(List.of("first", "second")) && unordered.equals(List.of("second", "first"));
        table.row("JVM", "map / imapUnordered, \"first\" forced to finish last", mapped + " / " + unordered,
                "2 workers, chunksize 1");
        ctx.claim(JVM_MAP_ORDERED, Verdict.check(holds, "map returned " + mapped + ", imapUnordered yielded "
                + unordered + " (\"first\" waits for a file created by \"second\" for map, and by the caller after the first"
                + " result for imapUnordered)"));
    }

    /** Two items: "first" waits for {@code gate}, which "second" creates. */
    private static List<List<String>> pair(Path gate) {
        return List.of(List.of("await", gate.toString(), "first"), List.of("touch", gate.toString(), "second"));
    }

    private static void killedWorker(RunContext ctx, ProcessPool pool, Path dir, Table.Builder table) throws Exception {
        Path started = dir.resolve("started");
        CompletableFuture<Object> hanging = pool.applyAsync(TaskRef.of(Tasks.class, "signalAndHang"), started.toString());
        long pid = awaitPid(started);
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        String error;
        long crashedPid = -1;
        int status = -1;
        try {
            hanging.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            error = "no error: the task returned";
        } catch (ExecutionException e) {
            error = e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
            if (e.getCause() instanceof WorkerCrashedException crash) {
                crashedPid = crash.pid();
                status = crash.exitStatus();
            }
        }
        long next = (Long) pool.apply(TaskRef.of(Tasks.class, "pid"));
        boolean holds = crashedPid == pid && status == 137 && error.contains("pid " + pid) && next != pid;
        table.row("JVM", "ProcessPool worker killed mid-task", error, "next task ran in new worker pid " + next);
        ctx.claim(JVM_KILLED_WORKER, Verdict.check(holds, String.format("killed worker pid %d; the task failed with"
                + " %s (exit status %d); the next task ran in worker pid %d", pid, error, status, next)));
    }

    private static void maxTasks(RunContext ctx, ProcessPool pool, Table.Builder table) throws Exception {
        int tasks = ctx.intParam("tasks");
        List<Object> pids = pool.map(TaskRef.of(Tasks.class, "pidFor"), LongStream.range(0, tasks).boxed().toList(), 1);
        int distinct = new HashSet<>(pids).size();
        table.row("JVM", "maxTasksPerChild=1, " + tasks + " tasks", distinct + " distinct pids", pids.toString());
        ctx.claim(JVM_MAX_TASKS, Verdict.check(distinct == tasks, tasks + " tasks ran in " + distinct
                + " distinct worker processes: " + pids));
    }

    private static void chunking(RunContext ctx, ProcessPool pool, Table.Builder table) throws Exception {
        int n = ctx.intParam("tiny-tasks");
        List<Long> items = LongStream.range(0, n).boxed().toList();
        TaskRef identity = TaskRef.of(Tasks.class, "identity");
        pool.map(identity, items, CHUNK); // warm-up: both workers' code paths compiled before timing
        Measure.Timing one = Measure.bestOf(ctx.repeats(), ctx, () -> pool.map(identity, items, 1));
        Measure.Timing chunked = Measure.bestOf(ctx.repeats(), ctx, () -> pool.map(identity, items, CHUNK));
        double perTaskOne = one.best() / n * 1e6;
        double perTaskChunked = chunked.best() / n * 1e6;
        table.row("JVM", "map of " + n + " tiny tasks, chunksize 1 vs " + CHUNK,
                String.format("%.1f µs vs %.2f µs per task", perTaskOne, perTaskChunked), "2 workers, best of "
                        + ctx.repeats());
        ctx.claim(JVM_CHUNKING, Verdict.atLeast("per-task cost, chunksize 1 vs " + CHUNK + String.format(
                " (%.1f µs vs %.2f µs)", perTaskOne, perTaskChunked), perTaskOne / perTaskChunked, 2.0));
    }

    private static long awaitPid(Path file) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the task did not signal its start within " + PATIENCE.toSeconds() + " s");
            }
            Thread.sleep(5);
        }
        return Long.parseLong(Files.readString(file).strip());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void runProbe(RunContext ctx, Table.Builder table) throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("mp_pool.py", List.of(), Duration.ofSeconds(120),
                "--tasks", Integer.toString(ctx.intParam("tasks")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_MAP_ORDERED, PY_POOL_KILLED, PY_EXECUTOR_BROKEN, PY_MAX_TASKS);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String version = "CPython " + ran.interpreter().version() + " (" + json.path("start_method").asText()
                        + ")";
                List<String> mapped = strings(json.path("ordering").path("map"));
                List<String> unordered = strings(json.path("ordering").path("imap_unordered"));
                table.row(version, "Pool.map / imap_unordered, \"first\" forced to finish last",
                        mapped + " / " + unordered, "Pool(2), chunksize=1");
                ctx.claim(PY_MAP_ORDERED, Verdict.check(mapped.equals(List.of("first", "second"))
                                && unordered.equals(List.of("second", "first")),
                        version + ": map returned " + mapped + ", imap_unordered yielded " + unordered));

                JsonNode pool = json.path("killed_pool");
                String poolError = pool.path("result_error").asText();
                boolean replaced = pool.path("next_result").asBoolean();
                table.row(version, "multiprocessing.Pool worker killed mid-task",
                        "get(timeout=" + String.format("%.1f", pool.path("waited_s").asDouble()) + " s): " + poolError,
                        "replacement worker pid " + pool.path("replacement_pid").asLong() + " served the next task");
                ctx.claim(PY_POOL_KILLED, Verdict.check(poolError.endsWith("TimeoutError") && replaced, String.format(
                        "%s: killed worker pid %d; its task's get(timeout) raised %s after %.2f s; the next task ran"
                                + " in pid %d", version, pool.path("pid").asLong(), poolError,
                        pool.path("waited_s").asDouble(), pool.path("replacement_pid").asLong())));

                JsonNode executor = json.path("killed_executor");
                String taskError = executor.path("result_error").asText();
                String nextError = executor.path("next_submit_error").asText();
                table.row(version, "ProcessPoolExecutor worker killed mid-task", taskError,
                        "next submit: " + nextError);
                ctx.claim(PY_EXECUTOR_BROKEN, Verdict.check(taskError.equals("BrokenProcessPool")
                        && nextError.equals("BrokenProcessPool"), String.format("%s: killed worker pid %d; the task"
                        + " failed with %s; a later submit failed with %s", version, executor.path("pid").asLong(),
                        taskError, nextError)));

                JsonNode max = json.path("max_tasks");
                int tasks = max.path("tasks").asInt();
                int distinct = max.path("distinct").asInt();
                table.row(version, "maxtasksperchild=1, " + tasks + " tasks", distinct + " distinct pids",
                        max.path("pids").toString());
                ctx.claim(PY_MAX_TASKS, Verdict.check(tasks > 1 && distinct == tasks, version + ": " + tasks
                        + " tasks ran in " + distinct + " distinct worker processes: " + max.path("pids")));
            }
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The tasks the pool's workers run: static methods on the lab's class path, named by {@link TaskRef}. */
    public static final class Tasks {
        private Tasks() {
        }

        static long identity(long x) {
            return x;
        }

        static long pid() {
            return ProcessHandle.current().pid();
        }

        /** The pid of the worker that ran item {@code item}. */
        static long pidFor(long item) {
            return ProcessHandle.current().pid();
        }

        /**
         * ("await", path, label) waits for path to exist (at most a minute, so that a broken run ends);
         * ("touch", path, label) creates it; ("plain", "", label) does nothing. Returns the label.
         */
        static String step(List<?> spec) throws IOException, InterruptedException {
            switch ((String) spec.get(0)) {
                case "await" -> {
                    long deadline = System.nanoTime() + PATIENCE.toNanos();
                    while (!Files.exists(Path.of((String) spec.get(1))) && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                }
                case "touch" -> Files.writeString(Path.of((String) spec.get(1)), "done");
                default -> { }
            }
            return (String) spec.get(2);
        }

        /** Writes this worker's pid to {@code path} atomically (the "I have started" signal), then hangs. */
        static void signalAndHang(String path) throws IOException, InterruptedException {
            Path tmp = Path.of(path + ".tmp");
            Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()));
            Files.move(tmp, Path.of(path));
            Thread.sleep(600_000);
        }
    }
}
