package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.Latches;
import dev.conclab.lab.experiments.support.Thrown;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.conclab.lab.experiments.support.Thrown.name;

/**
 * Exceptions lost in executors, and the patterns that surface them.
 *
 * <ol>
 *   <li><b>BASELINE — execute().</b> A task run with {@link ThreadPoolExecutor#execute} that throws: the exception
 *       escapes the worker, the thread's uncaught-exception handler sees it, and the pool replaces the dead worker
 *       with a new thread (the thread names differ).</li>
 *   <li><b>Broken — submit() and the Future dropped.</b> The same task through {@code submit}: the
 *       {@link java.util.concurrent.FutureTask} catches the exception and stores it; the handler is never called
 *       and the worker lives on. Only {@code get()} would have thrown {@link ExecutionException}.</li>
 *   <li><b>Surfaced — afterExecute.</b> A {@link ThreadPoolExecutor} subclass whose {@code afterExecute} reads each
 *       finished {@link Future} (the pattern in that method's Javadoc) reports every failure, though nobody calls
 *       {@code get()}.</li>
 *   <li><b>Broken — a CompletableFuture chain.</b> A failed stage skips every later {@code thenApply} /
 *       {@code thenAccept} without a word; {@code whenComplete} sees the failure and passes it on; a
 *       {@code handle} that returns a value swallows it for good.</li>
 * </ol>
 * CPython (probe {@code lost_exceptions.py}): {@code concurrent.futures} stores the exception in the Future and
 * reports it nowhere (no {@code threading.excepthook} call, no log record) until {@code result()} re-raises it or a
 * done-callback reads it; {@code ProcessPoolExecutor} re-raises a pickled copy with the worker's traceback as
 * {@code __cause__}.
 *
 * <p>Every outcome is forced: each step waits for the tasks it inspects to have finished (latches, {@code get} on
 * the pool's own futures, {@code awaitTermination}); nothing sleeps. Stateless: each run builds its pools, and every
 * thread it starts has ended when {@code run} returns.
 *
 * <p>Run: {@code ./conclab run lost-exceptions}. Expect the handler called once for execute() and never for submit(),
 * afterExecute reporting all {@code tasks} failures, the chain's later stages run 0 times.
 */
public final class LostExceptions implements Experiment {

    static final ClaimSpec SUBMIT_LOSES = new ClaimSpec("submit-loses",
            "Broken: a task submitted to a ThreadPoolExecutor whose Future nobody reads loses its exception: the"
                    + " uncaught-exception handler is never called, while the same task run with execute() reaches"
                    + " it and its worker thread is replaced.");
    static final ClaimSpec AFTER_EXECUTE = new ClaimSpec("after-execute-surfaces",
            "Overriding ThreadPoolExecutor.afterExecute to read each finished Future reports every exception of"
                    + " submitted tasks without anyone calling get().");
    static final ClaimSpec CF_CHAIN = new ClaimSpec("cf-chain-skips",
            "Broken: in a CompletableFuture chain a failure skips every later thenApply and thenAccept silently;"
                    + " whenComplete sees it and passes it on, and a handle that returns a value swallows it.");
    static final ClaimSpec PY_STORED = new ClaimSpec("py-stored-in-future",
            "In concurrent.futures an exception stays in its Future and is reported nowhere (no"
                    + " threading.excepthook call, no log record) until result() re-raises the same object,"
                    + " exception() returns it or a done-callback reads it.");
    static final ClaimSpec PY_PROCESS = new ClaimSpec("py-process-cause",
            "ProcessPoolExecutor re-raises a worker's exception from result() in the parent, with the worker's"
                    + " traceback attached as its __cause__.");

    private static final long GIVE_UP_SECONDS = 20;

    @Override
    public String id() {
        return "lost-exceptions";
    }

    @Override
    public String title() {
        return "Exceptions lost in executors, and how to surface them";
    }

    @Override
    public String description() {
        return "Throws in ThreadPoolExecutor tasks run with execute() and submit(), in an afterExecute-checking pool and"
                + " in a CompletableFuture chain, and counts who saw each exception; beside concurrent.futures'"
                + " result(), add_done_callback and ProcessPoolExecutor's remote traceback.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("tasks", "failing tasks submitted to the afterExecute pool", 1, 1_000, 50,
                10));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SUBMIT_LOSES, AFTER_EXECUTE, CF_CHAIN, PY_STORED, PY_PROCESS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Who sees a task's exception", "runtime", "how the task ran",
                "who saw the exception", "detail");
        ctx.progress(0.05, "execute() vs submit()");
        executeVsSubmit(ctx, table);
        ctx.progress(0.25, "afterExecute");
        afterExecute(ctx, ctx.intParam("tasks"), table);
        ctx.progress(0.4, "a CompletableFuture chain");
        chain(ctx, table);
        ctx.progress(0.5, "CPython: lost_exceptions.py");
        python(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- 1 and 2: execute() vs submit() ------------------------------------------------------------------------

    private static void executeVsSubmit(RunContext ctx, Table.Builder table) throws Exception {
        AtomicInteger handlerCalls = new AtomicInteger();
        Set<String> threadsThatThrew = ConcurrentHashMap.newKeySet();
        CountDownLatch handled = new CountDownLatch(1);
        AtomicInteger created = new AtomicInteger();
        ThreadFactory factory = Thread.ofPlatform().name("lost-exceptions-", 0).uncaughtExceptionHandler((t, e) -> {
            handlerCalls.incrementAndGet();
            handled.countDown();
        }).factory();
        ThreadFactory counting = r -> {
            created.incrementAndGet();
            return factory.newThread(r);
        };
        Runnable throwing = () -> {
            threadsThatThrew.add(Thread.currentThread().getName());
            throw new IllegalStateException("nobody looks");
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                counting);
        int afterExecute;
        int replacedByExecute;
        int replacedBySubmit;
        Future<?> dropped;
        try {
            pool.prestartCoreThread();
            int before = created.get();
            pool.execute(throwing);
            Latches.await(handled, GIVE_UP_SECONDS, "the uncaught-exception handler");
            // The dying worker adds its replacement before its exception reaches the handler.
            afterExecute = handlerCalls.get();
            replacedByExecute = created.get() - before;
            dropped = pool.submit(throwing); // Broken: the Future is never read
            pool.submit(() -> { }).get(GIVE_UP_SECONDS, TimeUnit.SECONDS); // one worker: the failing task is done
            replacedBySubmit = created.get() - before - replacedByExecute;
        } finally {
            pool.shutdown();
            if (!pool.awaitTermination(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                pool.shutdownNow();
                throw new IllegalStateException("the pool did not terminate");
            }
        }
        // After termination every worker has ended, so a handler call for the submitted task would have happened.
        int afterSubmit = handlerCalls.get() - afterExecute;
        Throwable fromGet = Thrown.by(dropped::get);
        table.row("JVM", "pool.execute(task)", "uncaught-exception handler: " + afterExecute + "×",
                "the worker died; new threads the pool started to replace it: " + replacedByExecute);
        table.row("JVM", "Broken: pool.submit(task), Future dropped", "handler: " + afterSubmit + "×",
                "new threads: " + replacedBySubmit + "; a late get() would throw " + name(fromGet) + "; "
                        + threadsThatThrew.size() + " distinct workers threw in all");
        boolean holds = afterExecute == 1 && replacedByExecute == 1 && afterSubmit == 0 && replacedBySubmit == 0
                && fromGet instanceof ExecutionException && fromGet.getCause() instanceof IllegalStateException;
        ctx.claim(SUBMIT_LOSES, Verdict.check(holds, String.format(
                "execute(): handler called %d×, %d replacement worker; submit(): %d handler calls, %d replacement,"
                        + " and get() would have thrown %s (needs 1, 1, 0, 0, ExecutionException)",
                afterExecute, replacedByExecute, afterSubmit, replacedBySubmit, name(fromGet))));
    }

    // ---- 3: afterExecute surfaces submitted failures -----------------------------------------------------------

    /** A pool that reports the exception of every task, also of those run through {@code submit}. */
    private static final class SurfacingPool extends ThreadPoolExecutor {
        final List<Throwable> reported = new ArrayList<>();

        SurfacingPool(int threads) {
            super(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    Thread.ofPlatform().name("surfacing-", 0).factory());
        }

        @Override
        protected void afterExecute(Runnable r, Throwable t) {
            super.afterExecute(r, t);
            // The pattern of ThreadPoolExecutor.afterExecute's Javadoc: a FutureTask swallowed t; read it back.
            if (t == null && r instanceof Future<?> future && future.isDone() && !future.isCancelled()) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    t = e.getCause();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (t != null) {
                synchronized (reported) {
                    reported.add(t);
                }
            }
        }
    }

    private static void afterExecute(RunContext ctx, int tasks, Table.Builder table) throws Exception {
        SurfacingPool pool = new SurfacingPool(2);
        try {
            for (int i = 0; i < tasks; i++) {
                int n = i;
                pool.submit(() -> {
                    throw new IllegalStateException("task " + n);
                }); // the Future is dropped on purpose
            }
        } finally {
            pool.shutdown();
            if (!pool.awaitTermination(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                pool.shutdownNow();
                throw new IllegalStateException("the pool did not terminate");
            }
        }
        int reported;
        long distinct;
        synchronized (pool.reported) {
            reported = pool.reported.size();
            distinct = pool.reported.stream().map(Throwable::getMessage).distinct().count();
        }
        table.row("JVM", tasks + " × submit(task) to a pool overriding afterExecute, Futures dropped",
                "afterExecute reported " + reported + "×", distinct + " distinct task messages");
        ctx.claim(AFTER_EXECUTE, Verdict.check(reported == tasks && distinct == tasks, String.format(
                "afterExecute reported %d exceptions (%d distinct) for %d failing tasks whose Futures nobody read"
                        + " (needs all %d)", reported, distinct, tasks, tasks)));
    }

    // ---- 4: a CompletableFuture chain ---------------------------------------------------------------------------

    private static void chain(RunContext ctx, Table.Builder table) throws Exception {
        AtomicInteger laterStages = new AtomicInteger();
        List<String> whenCompleteSaw = new ArrayList<>();
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            chain(ctx, exec, laterStages, whenCompleteSaw, table);
        }
    }

    private static void chain(RunContext ctx, ExecutorService exec, AtomicInteger laterStages,
            List<String> whenCompleteSaw, Table.Builder table) throws Exception {
        CompletableFuture<Integer> failed = CompletableFuture.supplyAsync(() -> {
            throw new IllegalStateException("stage 1 failed");
        }, exec);
        CompletableFuture<Void> skipped = failed
                .thenApply(x -> laterStages.incrementAndGet())
                .thenApply(x -> laterStages.incrementAndGet())
                .thenAccept(x -> laterStages.incrementAndGet());
        CompletableFuture<Integer> observed = failed.whenComplete((v, ex) -> {
            synchronized (whenCompleteSaw) {
                whenCompleteSaw.add(name(ex));
            }
        });
        CompletableFuture<Integer> swallowed = failed.handle((v, ex) -> -1); // Broken: no log, no rethrow
        Throwable end = Thrown.by(() -> skipped.get(GIVE_UP_SECONDS, TimeUnit.SECONDS));
        Throwable afterObserve = Thrown.by(() -> observed.get(GIVE_UP_SECONDS, TimeUnit.SECONDS));
        Integer swallowedValue = swallowed.get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
        List<String> saw;
        synchronized (whenCompleteSaw) {
            saw = List.copyOf(whenCompleteSaw);
        }
        table.row("JVM", "supplyAsync(fail).thenApply.thenApply.thenAccept", "nobody, unless the end is joined",
                "later stages ran " + laterStages.get() + "×; the end completed with " + name(end));
        table.row("JVM", "…whenComplete(log) / …handle((v, ex) -> -1)", "whenComplete saw " + saw,
                "whenComplete's future: " + name(afterObserve) + "; handle's future: value " + swallowedValue
                        + " (swallowed)");
        boolean holds = laterStages.get() == 0 && end instanceof ExecutionException
                && saw.equals(List.of("CompletionException")) && afterObserve instanceof ExecutionException
                && swallowedValue == -1;
        ctx.claim(CF_CHAIN, Verdict.check(holds, String.format(
                "the later stages ran %d×, the chain's end held %s; whenComplete saw %s and its future still failed"
                        + " (%s); handle returned %d and its future completed normally (needs 0, failed, seen,"
                        + " passed on, -1)", laterStages.get(), name(end), saw, name(afterObserve),
                swallowedValue)));
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("lost_exceptions.py", List.of(), Duration.ofSeconds(60));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_STORED, PY_PROCESS);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                JsonNode t = json.path("threads");
                List<String> callback = new ArrayList<>();
                t.path("callback_saw").forEach(v -> callback.add(v.asText()));
                List<String> mapped = new ArrayList<>();
                t.path("map_values_then_error").forEach(v -> mapped.add(v.asText()));
                table.row(py, "Broken: ThreadPoolExecutor.submit(fail), Future dropped",
                        "excepthook " + t.path("excepthook_calls").asInt() + "×, log records "
                                + t.path("log_records").asInt(),
                        "the Future holds " + t.path("dropped_exception").asText());
                table.row(py, "add_done_callback / result()", "callback saw " + callback + "; result() raised "
                        + t.path("result_raised").asText(), "the same object as exception(): "
                        + t.path("result_same_object").asBoolean());
                table.row(py, "pool.map(lambda x: 1 // x, [1, 2, 0, 4])", "the iteration raised at item 3",
                        "got " + mapped);
                boolean stored = t.path("dropped_done").asBoolean() && "Boom".equals(t.path("dropped_exception")
                        .asText()) && t.path("excepthook_calls").asInt(-1) == 0 && t.path("log_records").asInt(-1) == 0
                        && callback.equals(List.of("Boom")) && "Boom".equals(t.path("result_raised").asText())
                        && t.path("result_same_object").asBoolean();
                ctx.claim(PY_STORED, Verdict.check(stored, String.format(
                        "the dropped Future held %s; threading.excepthook was called %d×, log records %d; the"
                                + " done-callback saw %s; result() raised %s, the same object: %s (needs Boom, 0,"
                                + " 0, [Boom], Boom, true); %s", t.path("dropped_exception").asText(),
                        t.path("excepthook_calls").asInt(), t.path("log_records").asInt(), callback,
                        t.path("result_raised").asText(), t.path("result_same_object").asBoolean(), py)));

                JsonNode p = json.path("processes");
                table.row(py, "ProcessPoolExecutor.submit(fail).result()", "raised " + p.path("raised").asText()
                        + " (\"" + p.path("message").asText() + "\")", "__cause__: " + p.path("cause_type").asText()
                        + ", names the worker's frame: " + p.path("cause_names_worker_frame").asBoolean());
                ctx.claim(PY_PROCESS, Verdict.check("Boom".equals(p.path("raised").asText())
                        && "_RemoteTraceback".equals(p.path("cause_type").asText())
                        && p.path("cause_names_worker_frame").asBoolean(), String.format(
                        "result() raised %s with __cause__ %s naming the worker's frame: %s (needs Boom,"
                                + " _RemoteTraceback, true)", p.path("raised").asText(),
                        p.path("cause_type").asText(), p.path("cause_names_worker_frame").asBoolean())));
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

}
