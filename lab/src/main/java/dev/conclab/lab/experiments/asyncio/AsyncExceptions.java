package dev.conclab.lab.experiments.asyncio;

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
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.conclab.lab.experiments.support.Thrown.name;

/**
 * Where an exception thrown inside asynchronous work ends up: with the caller who waits, in a wrapper, in a group,
 * or nowhere.
 *
 * <ol>
 *   <li><b>BASELINE — the waiter gets it.</b> A {@link CompletableFuture} whose supplier throws
 *       {@link IllegalStateException}: {@code join()} throws {@link CompletionException} and {@code get()}
 *       {@link ExecutionException}, each with the original as cause; {@code exceptionally} and {@code handle}
 *       receive it (wrapped) and turn it into a value. In asyncio the awaiter catches the original exception
 *       object, unwrapped.</li>
 *   <li><b>Several tasks, one fails.</b> {@code CompletableFuture.allOf(failing, slow)}: the failing future has
 *       completed, yet {@code allOf} is still not done while the slow one waits on a latch; it completes
 *       exceptionally only once the slow one is released and finishes. {@code asyncio.gather} does the opposite:
 *       it raises the first exception at once and leaves the others running (or, with
 *       {@code return_exceptions=True}, returns exceptions as values); {@code asyncio.TaskGroup} (3.11) cancels
 *       the siblings and raises an {@code ExceptionGroup} (PEP 654) of every failure.
 *       {@link StructuredTaskScope#open()} (default joiner) is Java's TaskGroup: the first failure cancels the
 *       scope, which interrupts the sibling (blocked on a latch nobody opens, so only the interrupt frees it),
 *       and {@code join()} throws {@link StructuredTaskScope.FailedException} with the failure as cause.</li>
 *   <li><b>Broken — nobody looks.</b> {@code CompletableFuture.runAsync} whose task throws, never joined: the
 *       exception is stored in the future and nothing reports it. The threads of the executor carry an
 *       uncaught-exception handler that counts calls: the same throwing task run with {@code execute()} reaches
 *       it; through {@code runAsync} (and {@code submit}) it never does. Attaching {@code exceptionally} is the
 *       cure. CPython at least logs "Task exception was never retrieved" when such a task is garbage-collected
 *       (the probe captures it through {@code loop.set_exception_handler}).</li>
 * </ol>
 * Orderings are forced with latches; nothing sleeps.
 *
 * <p>Stateless: each run builds its own executors, scopes and latches, and every thread it starts has ended when
 * {@code run} returns (executors and scopes are closed, which waits for their threads).
 *
 * <p>Run: {@code ./conclab run async-exceptions}. Expect the wrappers named, {@code allOf} not done while the slow
 * future runs, the uncaught handler called once for {@code execute()} and zero times for {@code runAsync} and
 * {@code submit}, and the scope's sibling interrupted within milliseconds of the failure.
 */
public final class AsyncExceptions implements Experiment {

    static final ClaimSpec CF_WRAPS = new ClaimSpec("cf-wraps",
            "A failure in a CompletableFuture reaches whoever waits for it wrapped: join() throws"
                    + " CompletionException and get() throws ExecutionException, each with the original exception"
                    + " as cause; exceptionally and handle turn it into a value.");
    static final ClaimSpec ALLOF_WAITS_ALL = new ClaimSpec("allof-waits-all",
            "CompletableFuture.allOf completes exceptionally only after every future has finished, not at the first"
                    + " failure.");
    static final ClaimSpec LOST_EXCEPTION = new ClaimSpec("lost-exception",
            "Broken: an exception in a CompletableFuture that nobody joins is silently lost: the thread's"
                    + " uncaught-exception handler never sees it, while the same exception in a task run with"
                    + " execute() reaches it.");
    static final ClaimSpec STS_FAILS_FAST = new ClaimSpec("sts-fails-fast",
            "StructuredTaskScope.open() with the default joiner: the first failure interrupts the sibling subtasks"
                    + " and join() throws FailedException with that failure as its cause.");
    static final ClaimSpec PY_PROPAGATES = new ClaimSpec("py-propagates",
            "In asyncio an exception raised in a coroutine propagates unchanged to whoever awaits it, directly or"
                    + " through a Task: the awaiter catches the same exception object.");
    static final ClaimSpec PY_GATHER_FIRST = new ClaimSpec("py-gather-first",
            "asyncio.gather raises the first exception at once while the other tasks keep running, not cancelled;"
                    + " with return_exceptions=True the exceptions come back as values, in argument order.");
    static final ClaimSpec PY_TASKGROUP = new ClaimSpec("py-taskgroup",
            "asyncio.TaskGroup (3.11) cancels the sibling tasks when one fails and raises one ExceptionGroup"
                    + " holding every failure, which except* handles by type.");
    static final ClaimSpec PY_NEVER_RETRIEVED = new ClaimSpec("py-never-retrieved",
            "A task whose exception is never retrieved is reported as “Task exception was never retrieved” to the"
                    + " loop's exception handler when it is garbage-collected.");

    /** How long any task waits for a latch that should open soon before it calls itself stuck. */
    private static final long GIVE_UP_SECONDS = 20;
    /** The claim's bound on how soon the sibling must see its interrupt after the failure. */
    private static final double INTERRUPT_WITHIN_MS = 1_000;

    @Override
    public String id() {
        return "async-exceptions";
    }

    @Override
    public String title() {
        return "Exceptions in async work: wrapped, grouped, cancelling siblings, or lost";
    }

    @Override
    public String description() {
        return "Throws inside CompletableFuture, virtual-thread tasks and StructuredTaskScope subtasks and shows"
                + " where the exception surfaces (CompletionException, ExecutionException, FailedException), that"
                + " allOf waits for all, that a scope interrupts the siblings, and that an unjoined future loses its"
                + " exception; beside asyncio's await, gather, TaskGroup and \"Task exception was never retrieved\".";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("siblings", "subtasks beside the failing one in the scope", 1, 64, 3,
                2));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(CF_WRAPS, ALLOF_WAITS_ALL, LOST_EXCEPTION, STS_FAILS_FAST, PY_PROPAGATES, PY_GATHER_FIRST,
                PY_TASKGROUP, PY_NEVER_RETRIEVED);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Where a task's exception surfaces", "runtime", "how it is waited for",
                "what the waiter gets", "cause / detail", "the other tasks");
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            ctx.progress(0.05, "CompletableFuture: join, get, exceptionally, handle");
            wrappers(ctx, exec, table);
            ctx.progress(0.2, "CompletableFuture.allOf with one failure");
            allOf(ctx, exec, table);
        }
        ctx.progress(0.3, "an exception nobody joins");
        lost(ctx, table);
        ctx.progress(0.45, "StructuredTaskScope.open(): the first failure");
        scope(ctx, ctx.intParam("siblings"), table);
        ctx.progress(0.6, "CPython: async_exceptions.py");
        python(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- 1. the waiter gets it --------------------------------------------------------------------------------

    private static void wrappers(RunContext ctx, ExecutorService exec, Table.Builder table) throws Exception {
        IllegalStateException original = new IllegalStateException("boom");
        CompletableFuture<String> failed = CompletableFuture.supplyAsync(() -> {
            throw original;
        }, exec);
        Throwable fromJoin = Thrown.by(failed::join);
        Throwable fromGet = Thrown.by(failed::get);
        List<String> seenByStages = new ArrayList<>();
        String recovered = failed.exceptionally(ex -> {
            seenByStages.add(describe(ex));
            return "recovered";
        }).join();
        String handled = failed.handle((value, ex) -> {
            seenByStages.add(describe(ex));
            return ex == null ? value : "handled";
        }).join();
        Throwable fromSubmit = Thrown.by(() -> exec.submit(() -> {
            throw original;
        }).get());

        table.row("JVM", "CompletableFuture.join()", name(fromJoin), causeText(fromJoin, original), "—");
        table.row("JVM", "CompletableFuture.get()", name(fromGet), causeText(fromGet, original), "—");
        table.row("JVM", "exceptionally / handle", "\"" + recovered + "\" / \"" + handled + "\"",
                "the stage received " + String.join(" and ", seenByStages), "—");
        table.row("JVM", "ExecutorService.submit(...).get() (virtual thread)", name(fromSubmit),
                causeText(fromSubmit, original), "—");
        boolean holds = fromJoin instanceof CompletionException && fromJoin.getCause() == original
                && fromGet instanceof ExecutionException && fromGet.getCause() == original
                && "recovered".equals(recovered) && "handled".equals(handled)
                && fromSubmit instanceof ExecutionException && fromSubmit.getCause() == original;
        ctx.claim(CF_WRAPS, Verdict.check(holds, String.format(
                "join() threw %s (%s); get() threw %s (%s); exceptionally → \"%s\", handle → \"%s\", both receiving"
                        + " %s; submit().get() threw %s (%s) (needs CompletionException and ExecutionException"
                        + " around the original, and both recoveries)", name(fromJoin), causeText(fromJoin, original),
                name(fromGet), causeText(fromGet, original), recovered, handled, seenByStages, name(fromSubmit),
                causeText(fromSubmit, original))));
    }

    // ---- 2. allOf waits for all -------------------------------------------------------------------------------

    private static void allOf(RunContext ctx, ExecutorService exec, Table.Builder table) throws Exception {
        IllegalStateException original = new IllegalStateException("first failure");
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> failing = CompletableFuture.supplyAsync(() -> {
            throw original;
        }, exec);
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> {
            awaitUnchecked(release, "the release");
            return "slow done";
        }, exec);
        CompletableFuture<Void> all = CompletableFuture.allOf(failing, slow);
        Thrown.by(failing::join); // the failure has happened
        boolean doneAfterFailure = all.isDone();
        boolean[] slowDoneWhenAllDone = new boolean[1];
        CompletableFuture<Void> observed = all.whenComplete((v, ex) -> slowDoneWhenAllDone[0] = slow.isDone());
        release.countDown();
        Throwable fromAll = Thrown.by(() -> observed.get(GIVE_UP_SECONDS, TimeUnit.SECONDS));
        Throwable cause = fromAll == null ? null : fromAll.getCause();
        table.row("JVM", "CompletableFuture.allOf(failing, slow)", "not done after the failure: " + !doneAfterFailure
                        + "; then " + name(fromAll), causeText(fromAll, original) + "; completed when the slow one"
                        + " had finished: " + slowDoneWhenAllDone[0], "slow one ran to \"" + slow.join() + "\"");
        boolean holds = !doneAfterFailure && slowDoneWhenAllDone[0] && fromAll instanceof ExecutionException
                && cause == original;
        ctx.claim(ALLOF_WAITS_ALL, Verdict.check(holds, String.format(
                "after the failing future completed, allOf was done: %s; it completed only when the slow future had"
                        + " finished: %s, and get() then threw %s (%s) (needs not done, then done exceptionally"
                        + " with the original failure, after the slow one)", doneAfterFailure,
                slowDoneWhenAllDone[0], name(fromAll), causeText(fromAll, original))));
    }

    // ---- 3. Broken: nobody looks ------------------------------------------------------------------------------

    private static void lost(RunContext ctx, Table.Builder table) throws Exception {
        AtomicInteger handlerCalls = new AtomicInteger();
        CountDownLatch handled = new CountDownLatch(1);
        var factory = Thread.ofVirtual().name("lost-exception-", 0).uncaughtExceptionHandler((thread, e) -> {
            handlerCalls.incrementAndGet();
            handled.countDown();
        }).factory();
        CountDownLatch threw = new CountDownLatch(3);
        Runnable throwing = () -> {
            threw.countDown();
            throw new IllegalStateException("nobody looks");
        };
        CompletableFuture<Void> unjoined;
        CompletableFuture<Void> logged;
        List<Throwable> log = new ArrayList<>();
        int afterExecute;
        try (ExecutorService exec = Executors.newThreadPerTaskExecutor(factory)) {
            exec.execute(throwing);
            Latches.await(handled, GIVE_UP_SECONDS, "the uncaught-exception handler");
            afterExecute = handlerCalls.get();
            unjoined = CompletableFuture.runAsync(throwing, exec); // Broken: never joined
            exec.submit(throwing); // the Future is dropped: the same loss
            logged = CompletableFuture.runAsync(throwing, exec).exceptionally(ex -> {
                synchronized (log) {
                    log.add(ex);
                }
                return null;
            });
            Latches.await(threw, GIVE_UP_SECONDS, "the three tasks to throw");
        } // close() waits until every thread of the executor has ended: any handler call has happened
        int afterAll = handlerCalls.get();
        logged.join();
        table.row("JVM", "execute(task) (plain thread, no future)", "nobody waits",
                "uncaught-exception handler called " + afterExecute + "×", "—");
        table.row("JVM", "Broken: runAsync(task), never joined; submit(task), Future dropped", "nobody waits",
                "handler called " + (afterAll - afterExecute) + "× more; the future holds it unseen (completed"
                        + " exceptionally: " + unjoined.isCompletedExceptionally() + ")", "—");
        table.row("JVM", "runAsync(task).exceptionally(log)", "the stage", "logged " + log.size() + "×", "—");
        ctx.claim(LOST_EXCEPTION, Verdict.check(afterExecute == 1 && afterAll == afterExecute
                && unjoined.isCompletedExceptionally() && log.size() == 1, String.format(
                "execute(): the handler was called %d×; runAsync (never joined) and submit (future dropped) added"
                        + " %d calls though both tasks threw, and the unjoined future was completed exceptionally:"
                        + " %s; with exceptionally attached the failure was logged %d× (needs 1, 0, true, 1)",
                afterExecute, afterAll - afterExecute, unjoined.isCompletedExceptionally(), log.size())));
    }

    // ---- 2b. StructuredTaskScope, default joiner ---------------------------------------------------------------

    private static void scope(RunContext ctx, int siblings, Table.Builder table) throws InterruptedException {
        IllegalStateException original = new IllegalStateException("subtask failed");
        CountDownLatch siblingsStarted = new CountDownLatch(siblings);
        CountDownLatch never = new CountDownLatch(1);
        Queue<Long> interruptedAt = new ConcurrentLinkedQueue<>();
        AtomicInteger completed = new AtomicInteger();
        long[] failedAt = new long[1];
        Throwable thrown = null;
        try (var scope = StructuredTaskScope.<Object>open()) {
            for (int i = 0; i < siblings; i++) {
                scope.fork(() -> {
                    siblingsStarted.countDown();
                    try {
                        Latches.await(never, GIVE_UP_SECONDS,
                                "a latch nobody opens (only an interrupt ends this wait)");
                    } catch (InterruptedException e) {
                        interruptedAt.add(System.nanoTime());
                        throw e;
                    }
                    completed.incrementAndGet();
                    return "sibling done";
                });
            }
            scope.fork(() -> {
                Latches.await(siblingsStarted, GIVE_UP_SECONDS, "the siblings to start");
                failedAt[0] = System.nanoTime(); // written before the fork's thread ends: visible after join
                throw original;
            });
            scope.join();
        } catch (StructuredTaskScope.FailedException e) {
            thrown = e;
        } finally {
            never.countDown(); // a sibling the cancel missed would otherwise wait for the give-up
        }
        double lastMs = interruptedAt.stream().mapToLong(t -> t - failedAt[0]).max().orElse(Long.MIN_VALUE) / 1e6;
        table.row("JVM", "StructuredTaskScope.open(), join()", name(thrown), causeText(thrown, original),
                String.format("%d of %d siblings interrupted, the last %.2f ms after the failure; %d completed",
                        interruptedAt.size(), siblings, lastMs, completed.get()));
        boolean holds = thrown instanceof StructuredTaskScope.FailedException && thrown.getCause() == original
                && interruptedAt.size() == siblings && completed.get() == 0 && lastMs <= INTERRUPT_WITHIN_MS;
        ctx.claim(STS_FAILS_FAST, Verdict.check(holds, String.format(
                "join() threw %s (%s); %d of %d siblings were interrupted, the last %.2f ms after the failure, and"
                        + " %d completed (needs FailedException around the original, all interrupted within %.0f"
                        + " ms, none completed)", name(thrown), causeText(thrown, original), interruptedAt.size(),
                siblings, lastMs, completed.get(), INTERRUPT_WITHIN_MS)));
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("async_exceptions.py", List.of(), Duration.ofSeconds(30));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_PROPAGATES, PY_GATHER_FIRST, PY_TASKGROUP, PY_NEVER_RETRIEVED);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();

                JsonNode p = json.path("propagates");
                boolean same = p.path("direct_same_object").asBoolean() && p.path("task_same_object").asBoolean();
                table.row(py, "await coro() / await task", p.path("direct_type").asText() + " / "
                        + p.path("task_type").asText(), "the same object as raised: " + same, "—");
                ctx.claim(PY_PROPAGATES, Verdict.check(same && "ValueError".equals(p.path("direct_type").asText())
                        && "ValueError".equals(p.path("task_type").asText()), String.format(
                        "awaiting the coroutine caught %s, awaiting the task caught %s, the very object raised: %s"
                                + " (needs ValueError both times, same object); %s", p.path("direct_type").asText(),
                        p.path("task_type").asText(), same, py)));

                JsonNode g = json.path("gather_first");
                JsonNode r = json.path("return_exceptions");
                List<String> values = new ArrayList<>();
                r.path("results").forEach(v -> values.add(v.asText()));
                boolean siblingRan = !g.path("sibling_done").asBoolean(true)
                        && !g.path("sibling_cancelled").asBoolean(true)
                        && "slow done".equals(g.path("sibling_result_later").asText());
                table.row(py, "asyncio.gather(failing, slow)", g.path("raised").asText(), "raised at once",
                        "slow not cancelled, completed later: " + siblingRan);
                table.row(py, "gather(..., return_exceptions=True)", values.toString(), "exceptions as values",
                        "all complete");
                ctx.claim(PY_GATHER_FIRST, Verdict.check(g.path("raised").asText().startsWith("ValueError")
                        && siblingRan && values.equals(List.of("ValueError", "ok")), String.format(
                        "gather raised %s while the slow task was done: %s, cancelled: %s, and later returned \"%s\";"
                                + " with return_exceptions=True it returned %s (needs ValueError, not done, not"
                                + " cancelled, completed; [ValueError, ok])", g.path("raised").asText(),
                        g.path("sibling_done").asBoolean(), g.path("sibling_cancelled").asBoolean(),
                        g.path("sibling_result_later").asText(), values)));

                JsonNode tg = json.path("taskgroup");
                List<String> handled = new ArrayList<>();
                tg.path("handled_by_except_star").forEach(v -> handled.add(v.asText()));
                table.row(py, "async with asyncio.TaskGroup() (2 fail, 1 waits)", tg.path("group_type").asText()
                                + " of " + tg.path("group_size").asInt(), "except* handled " + handled,
                        "waiting sibling cancelled: " + tg.path("sibling_cancelled").asBoolean());
                ctx.claim(PY_TASKGROUP, Verdict.check("ExceptionGroup".equals(tg.path("group_type").asText())
                        && tg.path("group_size").asInt() == 2 && handled.equals(List.of("ValueError", "KeyError"))
                        && tg.path("sibling_cancelled").asBoolean(), String.format(
                        "the group raised %s with %d exceptions, handled by except* as %s; the waiting sibling was"
                                + " cancelled: %s (needs ExceptionGroup of 2, both handled, sibling cancelled)",
                        tg.path("group_type").asText(), tg.path("group_size").asInt(), handled,
                        tg.path("sibling_cancelled").asBoolean())));

                JsonNode nr = json.path("never_retrieved");
                List<String> messages = new ArrayList<>();
                nr.path("captured").forEach(c -> messages.add(c.path("message").asText() + " ("
                        + c.path("exception").asText() + ")"));
                table.row(py, "a failed task never awaited, garbage-collected", "nobody waits",
                        "loop exception handler got " + messages, "—");
                ctx.claim(PY_NEVER_RETRIEVED, Verdict.check(nr.path("task_failed").asBoolean()
                        && messages.equals(List.of("Task exception was never retrieved (RuntimeError)")), String.format(
                        "the task failed: %s; after gc.collect() the loop's exception handler received %s (needs"
                                + " exactly one \"Task exception was never retrieved\" with the RuntimeError)",
                        nr.path("task_failed").asBoolean(), messages)));
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static String describe(Throwable t) {
        return t.getCause() == null ? name(t) : name(t) + " ← " + name(t.getCause());
    }

    private static String causeText(Throwable t, Throwable original) {
        if (t == null) {
            return "—";
        }
        return "cause: " + name(t.getCause())
                + (t.getCause() == original ? " (the original)" : " (NOT the original)");
    }

    private static void awaitUnchecked(CountDownLatch latch, String what) {
        try {
            Latches.await(latch, GIVE_UP_SECONDS, what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        }
    }
}
