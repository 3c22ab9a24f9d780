package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.RemoteTaskException;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A worker pool written from scratch: a task queue, N workers, a future per task, poison-pill shutdown, and an
 * exception in a task captured and returned instead of killing its worker.
 *
 * <ol>
 *   <li><b>BASELINE — {@link ManualPool}</b>, the lesson, about forty lines: {@code submit} puts a {@code Job}
 *       (the task and its {@link CompletableFuture}) on a {@link LinkedBlockingQueue}; each of N worker threads loops
 *       {@code take} → run → complete the future, catching whatever the task throws and completing the future
 *       exceptionally with it; {@code shutdown} puts one poison pill per worker (after every task already queued:
 *       the queue is FIFO) and joins the workers. Results are read from the futures in submission order, so
 *       they come back in order whatever order the workers finish in.</li>
 *   <li><b>Production — {@link java.util.concurrent.ThreadPoolExecutor}</b> via
 *       {@code Executors.newFixedThreadPool(n)}: the same design, plus rejection policies, a run state machine and
 *       {@code shutdown}/{@code awaitTermination}. Across processes, the toolkit's
 *       {@link ProcessPool} (worker JVMs; the task is named by class and method, the failing task comes back as a
 *       {@link RemoteTaskException} with the worker's stack trace).</li>
 *   <li><b>Broken — a worker loop that does not catch.</b> The failing task's exception escapes {@code run()}; the
 *       worker thread dies with it (the experiment joins it to see it gone), the pool has one worker fewer for good,
 *       and that task's future is never completed: a caller waiting on it would wait forever.</li>
 * </ol>
 * The tasks square their input, and task {@value #FAIL_AT} throws. After the failure, a second batch is submitted to
 * show the pool still serves.
 *
 * <p>The CPython probe {@code manual_pool.py} is the same pool with {@code multiprocessing.Process} workers, a task
 * {@code Queue} and a result {@code Queue} carrying {@code (index, ok, value)}, beside
 * {@code concurrent.futures.ProcessPoolExecutor}.
 *
 * <p>Run: {@code ./conclab run manual-worker-pool}. Expect every result in order, the failing task's exception
 * returned in its future while the pool keeps N workers, none alive after shutdown, and the Broken pool one worker
 * short with a future that never completes.
 */
public final class ManualWorkerPool implements Experiment {

    static final ClaimSpec IN_ORDER = new ClaimSpec("in-order",
            "A worker pool written from scratch (a task queue, N worker threads, a future per task) returns every"
                    + " result correct and in submission order, like ThreadPoolExecutor and the toolkit's ProcessPool.");
    static final ClaimSpec EXCEPTION_RETURNED = new ClaimSpec("exception-returned",
            "An exception in one task is captured and returned through that task's future; the pool keeps all its"
                    + " workers and goes on serving.");
    static final ClaimSpec SHUTDOWN_CLEAN = new ClaimSpec("shutdown-clean",
            "One poison pill per worker, queued after the tasks, stops every worker after the last task: no worker"
                    + " is alive after shutdown, and no worker JVM is alive after the ProcessPool's close().");
    static final ClaimSpec BROKEN_UNCAUGHT = new ClaimSpec("broken-uncaught",
            "Broken: a worker loop that does not catch dies with the failing task: the pool loses a worker and that"
                    + " task's future never completes.");
    static final ClaimSpec PY_MANUAL = new ClaimSpec("py-manual-pool",
            "The same pool with multiprocessing.Process workers and two Queues returns every result in order,"
                    + " sends the failing task's exception back as its result, and all workers exit with code 0 at"
                    + " their poison pills.");
    static final ClaimSpec PY_EXECUTOR = new ClaimSpec("py-executor",
            "ProcessPoolExecutor gives the same results in order and re-raises the task's exception from"
                    + " future.result(), and keeps serving after it.");

    static final int FAIL_AT = 3;
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Override
    public String id() {
        return "manual-worker-pool";
    }

    @Override
    public String title() {
        return "A worker pool from scratch beside ThreadPoolExecutor and ProcessPoolExecutor";
    }

    @Override
    public String description() {
        return "A task queue, N worker threads, futures, poison pills and captured exceptions, written out in forty"
                + " lines, beside ThreadPoolExecutor and, Broken, a worker loop that does not catch; in CPython the"
                + " same pool of multiprocessing.Process workers beside ProcessPoolExecutor.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("workers", "worker threads (and processes in CPython)", 1, 64, 4, 2),
                new Param.IntParam("tasks", "tasks per batch (at least " + (FAIL_AT + 1) + ")", FAIL_AT + 1, 100_000,
                        1_000, 40));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(IN_ORDER, EXCEPTION_RETURNED, SHUTDOWN_CLEAN, BROKEN_UNCAUGHT, PY_MANUAL, PY_EXECUTOR);
    }

    /** The task: squares its input; input {@value #FAIL_AT} fails. */
    static long square(int x) {
        if (x == FAIL_AT) {
            throw new IllegalArgumentException("task " + x + " failed on purpose");
        }
        return (long) x * x;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int workers = ctx.intParam("workers");
        int tasks = ctx.intParam("tasks");
        Table.Builder table = Table.builder("Worker pools: " + tasks + " tasks squaring their input, task " + FAIL_AT
                        + " throws", "pool", "results in order", "failed task returned", "workers after failure",
                "later batch served", "alive after shutdown", "ms");

        ctx.progress(0.05, "manual pool");
        long start = System.nanoTime();
        ManualPool pool = new ManualPool(workers, true);
        Batch manual;
        int aliveAfterFailure;
        Batch later;
        try {
            manual = Batch.of(pool::submit, tasks);
            aliveAfterFailure = pool.aliveWorkers();
            later = Batch.of(pool::submit, FAIL_AT + 3);
        } finally {
            pool.shutdown();
        }
        int aliveAfterShutdown = pool.aliveWorkers();
        double manualMs = (System.nanoTime() - start) / 1e6;
        table.row("ManualPool (from scratch)", manual.inOrderText(), manual.error, aliveAfterFailure + " of " + workers,
                later.allButFailedCorrect() ? "yes" : "NO", aliveAfterShutdown, manualMs);

        ctx.progress(0.25, "ThreadPoolExecutor");
        start = System.nanoTime();
        Batch tpe;
        Batch tpeLater;
        ExecutorService executor = Executors.newFixedThreadPool(workers);
        try {
            tpe = Batch.of(executor::submit, tasks);
            tpeLater = Batch.of(executor::submit, FAIL_AT + 3);
        } finally {
            executor.shutdown();
        }
        boolean terminated = executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        table.row("Executors.newFixedThreadPool", tpe.inOrderText(), tpe.error, "(not exposed)",
                tpeLater.allButFailedCorrect() ? "yes" : "NO", terminated ? "0 (terminated)" : "NOT terminated",
                (System.nanoTime() - start) / 1e6);

        ctx.progress(0.3, "toolkit ProcessPool");
        start = System.nanoTime();
        TaskRef squareRef = TaskRef.of(ManualWorkerPool.class, "square");
        Batch processes;
        Batch processesLater;
        List<Long> pids;
        ProcessPool processPool = ProcessPool.builder().workers(workers).build();
        try {
            processes = Batch.of(task -> processPool.applyAsync(squareRef, task.x()), tasks);
            processesLater = Batch.of(task -> processPool.applyAsync(squareRef, task.x()), FAIL_AT + 3);
            pids = processPool.workerPids();
        } finally {
            processPool.close();
        }
        long pidsAlive = pids.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .count();
        table.row("toolkit ProcessPool (" + workers + " worker JVMs)", processes.inOrderText(), processes.error,
                pids.size() + " of " + workers, processesLater.allButFailedCorrect() ? "yes" : "NO",
                pidsAlive + " (" + processPool.state() + ")", (System.nanoTime() - start) / 1e6);

        ctx.claim(IN_ORDER, Verdict.check(manual.allButFailedCorrect() && tpe.allButFailedCorrect()
                && processes.allButFailedCorrect(), String.format(
                "ManualPool: %s; ThreadPoolExecutor: %s; ProcessPool: %s (%d tasks, %d workers)",
                manual.inOrderText(), tpe.inOrderText(), processes.inOrderText(), tasks, workers)));
        ctx.claim(EXCEPTION_RETURNED, Verdict.check(manual.failedWithOurs() && aliveAfterFailure == workers
                && later.allButFailedCorrect() && processes.failedWithOurs() && pids.size() == workers
                && processesLater.allButFailedCorrect(), String.format(
                "task %d's future failed with \"%s\"; %d of %d workers alive after it; a later batch of %d tasks"
                        + " %s; ProcessPool: \"%s\", %d of %d worker JVMs alive, later batch %s", FAIL_AT,
                manual.error, aliveAfterFailure, workers, FAIL_AT + 3,
                later.allButFailedCorrect() ? "all correct" : "WRONG", processes.error, pids.size(), workers,
                processesLater.allButFailedCorrect() ? "all correct" : "WRONG")));
        ctx.claim(SHUTDOWN_CLEAN, Verdict.check(aliveAfterShutdown == 0 && pool.allTasksDone() && pidsAlive == 0
                && pids.size() == workers, String.format(
                "after shutdown: %d of %d workers alive, %d tasks queued and never run (needs 0 and 0);"
                        + " ThreadPoolExecutor terminated: %s; ProcessPool worker JVMs alive after close(): %d of %d"
                        + " (needs 0)", aliveAfterShutdown, workers, pool.queued(), terminated, pidsAlive,
                pids.size())));

        ctx.progress(0.45, "Broken: a worker loop that does not catch");
        ManualPool broken = new ManualPool(workers, false);
        Future<Long> lost;
        boolean died;
        int aliveAfterBroken;
        try {
            lost = broken.submit(new Task(FAIL_AT));
            died = broken.awaitWorkerDeath(PATIENCE);
            aliveAfterBroken = broken.aliveWorkers();
        } finally {
            broken.shutdown();
        }
        boolean neverCompleted = !lost.isDone();
        lost.cancel(true); // nobody will ever complete it; release the (absent) waiter
        table.row("Broken: worker without catch", "—", neverCompleted ? "never: the future stays pending"
                : "completed?", aliveAfterBroken + " of " + workers, "—", broken.aliveWorkers(), "");
        ctx.claim(BROKEN_UNCAUGHT, Verdict.check(died && aliveAfterBroken == workers - 1 && neverCompleted,
                String.format("a worker died: %s; %d of %d workers alive after the failing task (needs %d); the"
                        + " task's future completed: %s (needs never)", died, aliveAfterBroken, workers,
                        workers - 1, !neverCompleted)));

        ctx.progress(0.6, "CPython: multiprocessing.Process pool and ProcessPoolExecutor");
        runProbe(ctx, workers, Math.min(tasks, 200), table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void runProbe(RunContext ctx, int workers, int tasks, Table.Builder table)
            throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("manual_pool.py", List.of(), Duration.ofSeconds(60),
                "--workers", Integer.toString(workers), "--tasks", Integer.toString(tasks));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_MANUAL, PY_EXECUTOR);
            case ProbeOutcome.Ran ran -> {
                JsonNode m = ran.json().path("manual");
                JsonNode e = ran.json().path("executor");
                List<Integer> codes = new ArrayList<>();
                m.path("exitcodes").forEach(c -> codes.add(c.isNull() ? null : c.asInt()));
                table.row("CPython manual pool (" + ran.json().path("start_method").asText() + ")",
                        m.path("in_order").asBoolean() ? "yes" : "NO", m.path("error").asText(),
                        m.path("alive_after_failure").asInt() + " of " + workers,
                        m.path("later_tasks_ok").asBoolean() ? "yes" : "NO", "exit codes " + codes,
                        m.path("seconds").asDouble() * 1e3);
                table.row("CPython ProcessPoolExecutor", e.path("in_order").asBoolean() ? "yes" : "NO",
                        e.path("error_at_result").asText(), "(not exposed)",
                        e.path("later_tasks_ok").asBoolean() ? "yes" : "NO", "(shut down by with)",
                        e.path("seconds").asDouble() * 1e3);
                boolean manualOk = m.path("in_order").asBoolean() && m.path("failed_index").asInt() == FAIL_AT
                        && m.path("error").asText().startsWith("ValueError")
                        && m.path("alive_after_failure").asInt() == workers && m.path("later_tasks_ok").asBoolean()
                        && m.path("all_stopped").asBoolean();
                ctx.claim(PY_MANUAL, Verdict.check(manualOk, String.format(
                        "in order: %s; failed task %d returned \"%s\"; %d of %d workers alive after it; later"
                                + " batch ok: %s; exit codes after the pills %s", m.path("in_order").asBoolean(),
                        m.path("failed_index").asInt(), m.path("error").asText(),
                        m.path("alive_after_failure").asInt(), workers, m.path("later_tasks_ok").asBoolean(),
                        codes)));
                boolean execOk = e.path("in_order").asBoolean()
                        && e.path("error_at_result").asText().startsWith("ValueError")
                        && e.path("later_tasks_ok").asBoolean();
                ctx.claim(PY_EXECUTOR, Verdict.check(execOk, String.format(
                        "in order: %s; future.result() raised \"%s\"; later task ok: %s",
                        e.path("in_order").asBoolean(), e.path("error_at_result").asText(),
                        e.path("later_tasks_ok").asBoolean())));
            }
        }
    }

    /** How a batch is submitted: the manual pool's and the executor's {@code submit} have the same shape. */
    @FunctionalInterface
    private interface Submitter {
        Future<?> submit(Task task);
    }

    /** Task {@code x}: {@code square(x)}, runnable in this JVM or nameable for a worker JVM. */
    private record Task(int x) implements Callable<Long> {
        @Override
        public Long call() {
            return square(x);
        }
    }

    /** The results of one batch, read from the futures in submission order. */
    private record Batch(List<Long> values, int wrong, String error) {

        static Batch of(Submitter submitter, int tasks) throws InterruptedException, TimeoutException {
            List<Future<?>> futures = new ArrayList<>(tasks);
            for (int i = 0; i < tasks; i++) {
                futures.add(submitter.submit(new Task(i)));
            }
            List<Long> values = new ArrayList<>(tasks);
            int wrong = 0;
            String error = "none";
            for (int i = 0; i < tasks; i++) {
                try {
                    long v = ((Number) futures.get(i).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).longValue();
                    values.add(v);
                    if (v != (long) i * i) {
                        wrong++;
                    }
                } catch (ExecutionException e) {
                    values.add(null);
                    error = switch (e.getCause()) {
                        case RemoteTaskException remote -> remote.remoteClassName().replaceFirst(".*\\.", "")
                                + ": " + remote.remoteMessage() + " (remote, " + remote.getStackTrace().length
                                + " frames)";
                        case Throwable local -> local.getClass().getSimpleName() + ": " + local.getMessage();
                    };
                    if (i != FAIL_AT) {
                        wrong++;
                    }
                }
            }
            return new Batch(values, wrong, error);
        }

        boolean allButFailedCorrect() {
            return wrong == 0 && values.size() > FAIL_AT && values.get(FAIL_AT) == null;
        }

        boolean failedWithOurs() {
            return error.startsWith("IllegalArgumentException: task " + FAIL_AT + " failed on purpose");
        }

        String inOrderText() {
            return wrong == 0 ? "all " + (values.size() - 1) + " correct, in order" : wrong + " WRONG";
        }
    }

    /**
     * The pool, from scratch. Tasks run in FIFO order of submission on {@code n} platform threads; each task's
     * outcome (value or exception) completes its future, which happens-before a {@code get} that returns it.
     * {@link #shutdown} queues one poison pill per worker after the tasks already submitted, so every one of them
     * runs, then waits for the workers to exit. Not reusable after shutdown; {@code submit} is thread-safe.
     */
    static final class ManualPool {
        /** A task and the future its outcome completes; {@link #POISON} tells a worker to exit. */
        private record Job(Callable<Long> task, CompletableFuture<Long> result) {
            static final Job POISON = new Job(() -> 0L, new CompletableFuture<>());
        }

        private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
        private final List<Thread> workers = new ArrayList<>();
        private final boolean catchTaskErrors;

        ManualPool(int n, boolean catchTaskErrors) {
            this.catchTaskErrors = catchTaskErrors;
            for (int i = 0; i < n; i++) {
                // The Broken loop's dying worker is expected: keep its stack trace off the console.
                workers.add(Thread.ofPlatform().name("manual-pool-worker-" + i).daemon()
                        .uncaughtExceptionHandler((t, e) -> { }).start(this::work));
            }
        }

        Future<Long> submit(Callable<Long> task) {
            Job job = new Job(Objects.requireNonNull(task, "task"), new CompletableFuture<>());
            queue.add(job);
            return job.result;
        }

        private void work() {
            try {
                while (true) {
                    Job job = queue.take();
                    if (job == Job.POISON) {
                        return;
                    }
                    if (catchTaskErrors) {
                        try {
                            job.result.complete(job.task.call());
                        } catch (Throwable t) { // the task's failure is its result, not the worker's
                            job.result.completeExceptionally(t);
                        }
                    } else {
                        job.result.complete(callUnchecked(job.task)); // Broken: a throw ends this worker
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // asked to stop
            }
        }

        private static Long callUnchecked(Callable<Long> task) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Queues one pill per worker and joins them; interrupts any that do not stop in time. */
        void shutdown() throws InterruptedException {
            for (int i = 0; i < workers.size(); i++) {
                queue.add(Job.POISON);
            }
            for (Thread w : workers) {
                if (!w.join(PATIENCE)) {
                    w.interrupt();
                    w.join(PATIENCE);
                }
            }
        }

        int aliveWorkers() {
            return (int) workers.stream().filter(Thread::isAlive).count();
        }

        int queued() {
            return (int) queue.stream().filter(j -> j != Job.POISON).count();
        }

        boolean allTasksDone() {
            return queued() == 0;
        }

        /** Waits until some worker has ended (the Broken loop's worker, killed by the task's exception). */
        boolean awaitWorkerDeath(Duration patience) throws InterruptedException {
            long deadline = System.nanoTime() + patience.toNanos();
            while (System.nanoTime() < deadline) {
                for (Thread w : workers) {
                    if (w.join(Duration.ofMillis(5))) {
                        return true;
                    }
                }
            }
            return false;
        }
    }
}
