package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
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
import java.util.Queue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cancelling work that is already running: what actually stops it, in asyncio and on the JVM.
 *
 * <p>Cancellation is cooperative on both sides. asyncio throws {@code CancelledError} into the task at the
 * {@code await} where it is suspended; Java sets the thread's interrupt flag, which blocking calls
 * ({@code sleep}, {@code await}, {@code take}, channel I/O) turn into {@link InterruptedException}. Code that never
 * reaches an await, or never looks at the flag, cannot be stopped.
 * <ol>
 *   <li><b>BASELINE — cancel a blocked task.</b> {@code Future.cancel(true)} on a task sleeping (its "work") in an
 *       executor, once it has started: the thread is interrupted, the sleep throws at once, the task's
 *       {@code finally} runs. Measured on a virtual thread and on a platform thread; in asyncio,
 *       {@code task.cancel()} on a task in {@code await asyncio.sleep(60)}.</li>
 *   <li><b>Broken — {@code CompletableFuture.cancel(true)}.</b> The future is marked cancelled and {@code join()}
 *       throws {@link CancellationException} at once, but a {@code CompletableFuture} does not know the thread
 *       computing it ({@code mayInterruptIfRunning} "has no effect"): the supplier, sleeping {@code work-ms}, is
 *       not interrupted and runs to its end, its result thrown away.</li>
 *   <li><b>Broken — a CPU loop that never checks.</b> {@code Future.cancel(true)} interrupts a task spinning in a
 *       CPU loop that never calls {@code Thread.interrupted()}: nothing happens. The loop ends only at a deadline
 *       set {@code stretch-ms} after the cancel (so the cancel always comes first), and then finds its interrupt
 *       flag set. The same loop checking the flag each round stops within a millisecond or so. asyncio's version
 *       of this: a task in a CPU stretch with no {@code await} cannot even see the cancel until the stretch ends
 *       (the probe asks for it from another thread with {@code call_soon_threadsafe}, and times the delay).</li>
 *   <li><b>Scopes and timeouts.</b> A {@link StructuredTaskScope} opened with {@code withTimeout}: when it
 *       expires, the scope is cancelled, its unfinished subtasks are interrupted and {@code join()} throws
 *       {@link StructuredTaskScope.TimeoutException}, as {@code asyncio.timeout} (3.11) and {@code asyncio.wait_for}
 *       cancel the awaited work. (A scope also interrupts its subtasks when a subtask fails, shown in
 *       {@code async-exceptions}, and when it is closed.)</li>
 * </ol>
 * The probe {@code async_cancel.py} also shows {@code asyncio.shield} and a task that swallows
 * {@code CancelledError} (Broken), with {@code Task.cancelling()} and {@code Task.uncancel()} (3.11).
 *
 * <p>Stateless: each run builds its own executors, scopes and latches, and every thread it starts has ended when
 * {@code run} returns (executors and scopes are closed, which waits for their threads).
 *
 * <p>Run: {@code ./conclab run async-cancellation}. Expect interrupts to land within a millisecond or so, the
 * cancelled {@code CompletableFuture}'s supplier to finish its full {@code work-ms}, the unchecking loop to run its
 * full {@code stretch-ms} after the cancel, and the Python CPU stretch to delay the cancel by about
 * {@code stretch-ms}.
 */
public final class AsyncCancellation implements Experiment {

    static final ClaimSpec FUTURE_CANCEL_INTERRUPTS = new ClaimSpec("future-cancel-interrupts",
            "Future.cancel(true) interrupts a task blocked in a wait, on a virtual and on a platform thread: it"
                    + " leaves the wait within 100 ms and its finally block runs.");
    static final ClaimSpec CF_CANCEL_NO_INTERRUPT = new ClaimSpec("cf-cancel-no-interrupt",
            "Broken: CompletableFuture.cancel(true) marks the future cancelled at once but does not interrupt the"
                    + " computation: it runs to its end.");
    static final ClaimSpec CPU_LOOP_NOT_STOPPED = new ClaimSpec("cpu-loop-not-stopped",
            "Broken: Future.cancel(true) does not stop a CPU loop that never checks Thread.interrupted(); the same"
                    + " loop checking it stops within 100 ms.");
    static final ClaimSpec STS_TIMEOUT_INTERRUPTS = new ClaimSpec("sts-timeout-interrupts",
            "A StructuredTaskScope whose timeout expires interrupts its unfinished subtasks, and join() throws"
                    + " TimeoutException.");
    static final ClaimSpec PY_CANCEL_AT_AWAIT = new ClaimSpec("py-cancel-at-await",
            "task.cancel() raises CancelledError inside the task at the await where it is suspended, its finally"
                    + " block runs, and awaiting the task raises CancelledError.");
    static final ClaimSpec PY_CPU_STRETCH = new ClaimSpec("py-cpu-stretch",
            "A task in a CPU-bound stretch with no await cannot be cancelled during it: the cancel lands only at its"
                    + " next await, after the stretch.");
    static final ClaimSpec PY_SHIELD = new ClaimSpec("py-shield",
            "asyncio.shield protects the inner task: cancelling the outer future raises CancelledError in the"
                    + " awaiter, while the inner task keeps running and completes.");
    static final ClaimSpec PY_SWALLOW = new ClaimSpec("py-swallow",
            "Broken: a task that catches CancelledError and returns is not cancelled (cancelled() is False);"
                    + " Task.cancelling() counts the pending request and Task.uncancel() withdraws it (3.11).");
    static final ClaimSpec PY_TIMEOUTS = new ClaimSpec("py-timeouts",
            "asyncio.wait_for and asyncio.timeout (3.11) cancel the awaited work when the timeout expires (it sees"
                    + " CancelledError and its finally block runs) and raise TimeoutError.");

    /** How long a task that should be interrupted at once blocks before it gives up: nothing waits for ever. */
    private static final long GIVE_UP_MILLIS = 20_000;
    /** The claims' bound on how soon an interrupt must take effect. */
    private static final double PROMPT_MS = 100;
    /** Rounds of CPU work between two looks at the clock or the interrupt flag: a few microseconds. */
    private static final long ROUNDS_PER_CHECK = 2_000;

    @Override
    public String id() {
        return "async-cancellation";
    }

    @Override
    public String title() {
        return "Cancelling a running task: asyncio's CancelledError beside Future.cancel, CompletableFuture.cancel"
                + " and StructuredTaskScope";
    }

    @Override
    public String description() {
        return "Cancels running tasks and measures what stops: a blocked task is interrupted at once on virtual and"
                + " platform threads; CompletableFuture.cancel(true) does not interrupt its computation; a CPU loop"
                + " that never checks the flag runs on; a scope's timeout interrupts its subtasks; beside asyncio's"
                + " cancel at await, a CPU stretch, shield, a swallowed CancelledError and wait_for/timeout.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("work-ms", "how long the cancelled CompletableFuture's supplier sleeps", 10,
                        5_000, 200, 100),
                new Param.IntParam("stretch-ms", "the CPU stretch that runs on after a cancel (Java loop, Python"
                        + " task)", 20, 5_000, 300, 150),
                new Param.IntParam("timeout-ms", "the timeout of the scope and of wait_for/asyncio.timeout", 5,
                        5_000, 100, 50));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(FUTURE_CANCEL_INTERRUPTS, CF_CANCEL_NO_INTERRUPT, CPU_LOOP_NOT_STOPPED,
                STS_TIMEOUT_INTERRUPTS, PY_CANCEL_AT_AWAIT, PY_CPU_STRETCH, PY_SHIELD, PY_SWALLOW, PY_TIMEOUTS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int workMs = ctx.intParam("work-ms");
        int stretchMs = ctx.intParam("stretch-ms");
        int timeoutMs = ctx.intParam("timeout-ms");
        Table.Builder table = Table.builder("Cancelling a task that is running", "runtime", "the task is",
                "cancelled with", "what happened", "measured, ms");

        ctx.progress(0.05, "Future.cancel(true) on a blocked task");
        blocked(ctx, table);
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            ctx.progress(0.15, "CompletableFuture.cancel(true)");
            completableFuture(ctx, exec, workMs, table);
            ctx.progress(0.3, "a CPU loop, with and without checking the flag");
            cpuLoop(ctx, exec, stretchMs, table);
        }
        ctx.progress(0.45, "StructuredTaskScope with a timeout");
        scopeTimeout(ctx, timeoutMs, table);
        ctx.progress(0.55, "CPython: async_cancel.py");
        python(ctx, stretchMs, timeoutMs, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- 1. a blocked task ------------------------------------------------------------------------------------

    /** One cancel of a blocked task: how long from cancel(true) to the InterruptedException, and the finally. */
    private record Interrupted(double delayMs, boolean finallyRan, boolean interrupted) {
    }

    private static void blocked(RunContext ctx, Table.Builder table) throws Exception {
        List<String> evidence = new ArrayList<>();
        boolean holds = true;
        for (boolean virtual : new boolean[] {true, false}) {
            String kind = virtual ? "virtual thread" : "platform thread";
            ExecutorService exec = virtual ? Executors.newVirtualThreadPerTaskExecutor()
                    : Executors.newSingleThreadExecutor(Thread.ofPlatform().name("cancel-platform").factory());
            double best = Double.MAX_VALUE;
            double worst = 0;
            int finallies = 0;
            int interrupts = 0;
            try (exec) {
                for (int i = 0; i < ctx.repeats(); i++) {
                    ctx.checkCancelled();
                    Interrupted r = cancelBlocked(exec);
                    best = Math.min(best, r.delayMs());
                    worst = Math.max(worst, r.delayMs());
                    finallies += r.finallyRan() ? 1 : 0;
                    interrupts += r.interrupted() ? 1 : 0;
                }
            }
            int n = ctx.repeats();
            table.row("JVM", "blocked in Thread.sleep, " + kind, "Future.cancel(true)",
                    String.format("interrupted %d of %d; finally ran %d of %d", interrupts, n, finallies, n),
                    String.format("%.3f–%.3f", best, worst));
            holds &= interrupts == n && finallies == n && best <= PROMPT_MS;
            evidence.add(String.format("%s: interrupted in %d of %d cancels, %.3f ms at best, %.3f ms at worst;"
                    + " finally ran %d of %d", kind, interrupts, n, best, worst, finallies, n));
        }
        ctx.claim(FUTURE_CANCEL_INTERRUPTS, Verdict.check(holds, String.join("; ", evidence)
                + String.format(" (needs every cancel interrupted, every finally run, best ≤ %.0f ms)", PROMPT_MS)));
    }

    private static Interrupted cancelBlocked(ExecutorService exec) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch ended = new CountDownLatch(1);
        AtomicLong interruptedAt = new AtomicLong();
        AtomicBoolean finallyRan = new AtomicBoolean();
        Future<?> future = exec.submit(() -> {
            try {
                started.countDown();
                Thread.sleep(GIVE_UP_MILLIS); // the work: a long wait, which only the interrupt should end
            } catch (InterruptedException e) {
                interruptedAt.set(System.nanoTime());
            } finally {
                finallyRan.set(true);
                ended.countDown();
            }
        });
        await(started);
        long cancelled = System.nanoTime();
        future.cancel(true);
        await(ended);
        boolean interrupted = interruptedAt.get() != 0;
        return new Interrupted(interrupted ? (interruptedAt.get() - cancelled) / 1e6 : Double.NaN, finallyRan.get(),
                interrupted);
    }

    // ---- 2. Broken: CompletableFuture.cancel(true) ------------------------------------------------------------

    private static void completableFuture(RunContext ctx, ExecutorService exec, int workMs, Table.Builder table)
            throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch ended = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicLong endedAt = new AtomicLong();
        CompletableFuture<String> future = CompletableFuture.supplyAsync(() -> {
            started.countDown();
            try {
                Thread.sleep(workMs); // the work; an interrupt would end it at once
            } catch (InterruptedException e) {
                interrupted.set(true);
            } finally {
                endedAt.set(System.nanoTime());
                ended.countDown();
            }
            return "computed";
        }, exec);
        await(started);
        long cancelAt = System.nanoTime();
        boolean cancelReturned = future.cancel(true);
        boolean joinThrew = false;
        try {
            future.join();
        } catch (CancellationException e) {
            joinThrew = true;
        }
        double joinMs = (System.nanoTime() - cancelAt) / 1e6;
        boolean runningAfterJoin = ended.getCount() == 1;
        await(ended);
        double ranAfterCancelMs = (endedAt.get() - cancelAt) / 1e6;
        table.row("JVM", "sleeping " + workMs + " ms in CompletableFuture.supplyAsync",
                "Broken: CompletableFuture.cancel(true)", String.format("cancel → %s, isCancelled %s, join() threw"
                                + " CancellationException: %s; the supplier interrupted: %s, still running after join: %s,"
                                + " ended %.1f ms after the cancel", cancelReturned, future.isCancelled(), joinThrew,
                        interrupted.get(), runningAfterJoin, ranAfterCancelMs),
                String.format("join %.3f; ran on %.1f", joinMs, ranAfterCancelMs));
        ctx.claim(CF_CANCEL_NO_INTERRUPT, Verdict.check(cancelReturned && future.isCancelled() && joinThrew
                && !interrupted.get() && ranAfterCancelMs >= workMs * 0.5, String.format(
                "cancel(true) returned %s and join() threw CancellationException %.3f ms after it: %s; the supplier"
                        + " was interrupted: %s, and ended %.1f ms after the cancel, its sleep of %d ms done (needs"
                        + " cancelled, join threw, not interrupted, ran ≥ %.0f ms = half the work after the cancel)",
                cancelReturned, joinMs, joinThrew, interrupted.get(), ranAfterCancelMs, workMs, workMs * 0.5)));
    }

    // ---- 3. Broken: a CPU loop that never checks --------------------------------------------------------------

    private static void cpuLoop(RunContext ctx, ExecutorService exec, int stretchMs, Table.Builder table)
            throws Exception {
        // Broken: the loop looks at the clock, never at the interrupt flag. Its deadline is set only after the
        // cancel returned, so the cancel comes first on every run.
        CountDownLatch started = new CountDownLatch(1);
        AtomicLong deadline = new AtomicLong(Long.MAX_VALUE);
        AtomicLong endedAt = new AtomicLong();
        AtomicBoolean flagAtEnd = new AtomicBoolean();
        Future<?> deaf = exec.submit(() -> {
            started.countDown();
            long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GIVE_UP_MILLIS);
            while (System.nanoTime() < Math.min(deadline.get(), giveUp)) {
                CpuWork.consume(ROUNDS_PER_CHECK);
            }
            endedAt.set(System.nanoTime());
            flagAtEnd.set(Thread.currentThread().isInterrupted());
        });
        await(started);
        long cancelAt = System.nanoTime();
        deaf.cancel(true);
        deadline.set(cancelAt + TimeUnit.MILLISECONDS.toNanos(stretchMs));
        awaitEnd(endedAt);
        double ranOnMs = (endedAt.get() - cancelAt) / 1e6;

        // The cure: the same loop, looking at the flag every round.
        CountDownLatch started2 = new CountDownLatch(1);
        AtomicLong stoppedAt = new AtomicLong();
        Future<?> listening = exec.submit(() -> {
            started2.countDown();
            long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GIVE_UP_MILLIS);
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() < giveUp) {
                CpuWork.consume(ROUNDS_PER_CHECK);
            }
            stoppedAt.set(System.nanoTime());
        });
        await(started2);
        long cancel2 = System.nanoTime();
        listening.cancel(true);
        awaitEnd(stoppedAt);
        double stopMs = (stoppedAt.get() - cancel2) / 1e6;

        table.row("JVM", "in a CPU loop that never checks the flag", "Broken: Future.cancel(true)",
                String.format("ran on to its deadline %d ms after the cancel; interrupt flag set at the end: %s",
                        stretchMs, flagAtEnd.get()), String.format("ran on %.1f", ranOnMs));
        table.row("JVM", "in the same loop, checking isInterrupted() each round", "Future.cancel(true)",
                "stopped at the next check", String.format("stopped after %.3f", stopMs));
        ctx.claim(CPU_LOOP_NOT_STOPPED, Verdict.check(ranOnMs >= stretchMs && flagAtEnd.get() && stopMs <= PROMPT_MS,
                String.format("the loop that never checks ran on %.1f ms after cancel(true) (its deadline was %d ms"
                                + " after it) and found its interrupt flag set at the end: %s; the checking loop stopped"
                                + " %.3f ms after cancel(true) (needs ≥ %d ms, true, ≤ %.0f ms)", ranOnMs, stretchMs,
                        flagAtEnd.get(), stopMs, stretchMs, PROMPT_MS)));
    }

    // ---- 4. a scope's timeout ---------------------------------------------------------------------------------

    private static void scopeTimeout(RunContext ctx, int timeoutMs, Table.Builder table) throws Exception {
        int subtasks = 3;
        CountDownLatch started = new CountDownLatch(subtasks);
        Queue<Long> interruptedAt = new ConcurrentLinkedQueue<>();
        long opened = System.nanoTime();
        long joinEnded;
        String thrown = "nothing";
        try (var scope = StructuredTaskScope.open(Joiner.<Object>awaitAll(),
                cf -> cf.withTimeout(Duration.ofMillis(timeoutMs)))) {
            for (int i = 0; i < subtasks; i++) {
                scope.fork(() -> {
                    started.countDown();
                    try {
                        Thread.sleep(GIVE_UP_MILLIS); // the work: longer than the timeout by far
                    } catch (InterruptedException e) {
                        interruptedAt.add(System.nanoTime());
                        throw e;
                    }
                    return null;
                });
            }
            try {
                scope.join();
            } catch (StructuredTaskScope.TimeoutException e) {
                thrown = e.getClass().getSimpleName();
            }
            joinEnded = System.nanoTime();
        }
        double joinMs = (joinEnded - opened) / 1e6;
        double lastMs = interruptedAt.stream().mapToLong(t -> t - opened).max().orElse(-1) / 1e6;
        long startedCount = subtasks - started.getCount();
        table.row("JVM", subtasks + " subtasks sleeping in a StructuredTaskScope", "withTimeout(" + timeoutMs
                        + " ms)", String.format("join() threw %s; %d of %d started subtasks interrupted", thrown,
                        interruptedAt.size(), startedCount),
                String.format("join %.1f; last interrupt %.1f", joinMs, lastMs));
        ctx.claim(STS_TIMEOUT_INTERRUPTS, Verdict.check("TimeoutException".equals(thrown) && joinMs >= timeoutMs - 1
                && interruptedAt.size() == startedCount && joinMs < GIVE_UP_MILLIS / 2.0, String.format(
                "join() threw %s after %.1f ms (timeout %d ms); %d of the %d started subtasks were interrupted, the"
                        + " last %.1f ms after the scope opened (needs TimeoutException, every started subtask"
                        + " interrupted)", thrown, joinMs, timeoutMs, interruptedAt.size(), startedCount, lastMs)));
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int stretchMs, int timeoutMs, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("async_cancel.py", List.of(),
                Duration.ofSeconds(30).plusMillis(stretchMs), "--stretch-ms", Integer.toString(stretchMs),
                "--timeout-ms", Integer.toString(timeoutMs));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CANCEL_AT_AWAIT, PY_CPU_STRETCH, PY_SHIELD, PY_SWALLOW, PY_TIMEOUTS);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();

                JsonNode a = json.path("at_await");
                double awaitDelayMs = a.path("delay_s").asDouble(Double.NaN) * 1e3;
                table.row(py, "in await asyncio.sleep(60)", "task.cancel()", String.format(
                        "CancelledError at the await; finally ran: %s; await task raised %s",
                        a.path("finally_ran").asBoolean(), a.path("await_raised").asText()),
                        String.format("%.3f", awaitDelayMs));
                ctx.claim(PY_CANCEL_AT_AWAIT, Verdict.check(a.path("finally_ran").asBoolean()
                        && !a.path("woke").asBoolean(true) && "CancelledError".equals(a.path("await_raised").asText())
                        && a.path("task_cancelled").asBoolean() && awaitDelayMs <= PROMPT_MS, String.format(
                        "CancelledError reached the task %.3f ms after cancel(); finally ran: %s; awaiting the task"
                                + " raised %s; task.cancelled() %s (needs ≤ %.0f ms, finally, CancelledError, True);"
                                + " %s", awaitDelayMs, a.path("finally_ran").asBoolean(),
                        a.path("await_raised").asText(), a.path("task_cancelled").asBoolean(), PROMPT_MS, py)));

                JsonNode c = json.path("cpu_stretch");
                double delayMs = c.path("delay_s").asDouble(Double.NaN) * 1e3;
                double leftMs = c.path("stretch_left_s").asDouble(Double.NaN) * 1e3;
                table.row(py, "in a " + stretchMs + " ms CPU stretch, no await",
                        "loop.call_soon_threadsafe(task.cancel)", String.format(
                                "landed at the next await; %.1f ms of the stretch were left when asked", leftMs),
                        String.format("%.1f", delayMs));
                ctx.claim(PY_CPU_STRETCH, Verdict.check(delayMs >= leftMs && leftMs >= 0.5 * stretchMs
                        && c.path("task_cancelled").asBoolean(), String.format(
                        "cancel asked %.1f ms before the %d ms stretch ended; CancelledError arrived %.1f ms after"
                                + " the request, at the await after the stretch (needs delay ≥ the stretch left, and"
                                + " ≥ %.0f ms of stretch left = half)", leftMs, stretchMs, delayMs, 0.5 * stretchMs)));

                JsonNode s = json.path("shield");
                boolean shielded = "CancelledError".equals(s.path("outer_raised").asText())
                        && s.path("outer_cancelled").asBoolean() && !s.path("inner_cancelled").asBoolean(true)
                        && !s.path("inner_done").asBoolean(true)
                        && "inner done".equals(s.path("inner_result_later").asText());
                table.row(py, "awaited through asyncio.shield(inner)", "outer.cancel()", String.format(
                        "awaiter got %s; inner cancelled: %s, completed later: \"%s\"", s.path("outer_raised").asText(),
                        s.path("inner_cancelled").asBoolean(), s.path("inner_result_later").asText()), "—");
                ctx.claim(PY_SHIELD, Verdict.check(shielded, String.format(
                        "awaiting the shield raised %s (outer cancelled: %s); the inner task was cancelled: %s, done:"
                                + " %s, and later returned \"%s\" (needs CancelledError, True, False, False, \"inner"
                                + " done\")", s.path("outer_raised").asText(), s.path("outer_cancelled").asBoolean(),
                        s.path("inner_cancelled").asBoolean(), s.path("inner_done").asBoolean(),
                        s.path("inner_result_later").asText())));

                JsonNode w = json.path("swallow");
                int cancelling = w.path("cancelling_in_handler").asInt(-1);
                int afterUncancel = w.path("cancelling_after_uncancel").asInt(-1);
                table.row(py, "Broken: catching CancelledError and returning", "task.cancel()", String.format(
                        "await task returned \"%s\"; cancelled() %s; cancelling() %d in the handler, %d after"
                                + " uncancel()", w.path("await_returned").asText(), w.path("task_cancelled").asBoolean(),
                        cancelling, afterUncancel), "—");
                ctx.claim(PY_SWALLOW, Verdict.check("swallowed the cancel".equals(w.path("await_returned").asText())
                        && !w.path("task_cancelled").asBoolean(true) && cancelling == 1 && afterUncancel == 0,
                        String.format("await task returned \"%s\", task.cancelled() %s; cancelling() was %d in the"
                                        + " handler and %d after uncancel() (needs a value, False, 1, 0)",
                                w.path("await_returned").asText(), w.path("task_cancelled").asBoolean(), cancelling,
                                afterUncancel)));

                JsonNode wf = json.path("timeouts").path("wait_for");
                JsonNode cm = json.path("timeouts").path("timeout_cm");
                for (JsonNode[] row : new JsonNode[][] {{wf}, {cm}}) {
                    JsonNode t = row[0];
                    table.row(py, "in await asyncio.sleep(60)", t == wf ? "asyncio.wait_for(coro, " + timeoutMs
                                    + " ms)" : "async with asyncio.timeout(" + timeoutMs + " ms)",
                            t.path("raised").asText() + "; the inner await saw " + t.path("inner_saw"),
                            String.format("%.1f", t.path("elapsed_s").asDouble() * 1e3));
                }
                List<String> expected = List.of("CancelledError", "finally");
                boolean timeouts = "TimeoutError".equals(wf.path("raised").asText())
                        && "TimeoutError".equals(cm.path("raised").asText())
                        && strings(wf.path("inner_saw")).equals(expected) && strings(cm.path("inner_saw"))
                        .equals(expected);
                ctx.claim(PY_TIMEOUTS, Verdict.check(timeouts, String.format(
                        "wait_for raised %s after %.1f ms, the inner await saw %s; asyncio.timeout raised %s after"
                                + " %.1f ms, the inner await saw %s (needs TimeoutError and %s both times)",
                        wf.path("raised").asText(), wf.path("elapsed_s").asDouble() * 1e3, strings(wf.path("inner_saw")),
                        cm.path("raised").asText(), cm.path("elapsed_s").asDouble() * 1e3,
                        strings(cm.path("inner_saw")), expected)));
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(GIVE_UP_MILLIS * 2, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("a task did not start or end within " + GIVE_UP_MILLIS * 2 + " ms");
        }
    }

    /** Waits for a task to stamp its end time; its own give-up bounds the wait. */
    private static void awaitEnd(AtomicLong stamp) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GIVE_UP_MILLIS * 2);
        while (stamp.get() == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("a loop did not end within " + GIVE_UP_MILLIS * 2 + " ms");
            }
            Thread.sleep(1); // polling for the task's own timestamp; the delay measured is the task's
        }
    }
}
