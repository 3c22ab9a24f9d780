package dev.conclab.lab.experiments.asyncio;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.experiments.asyncio.ThreadsAndLoopJvm.JvmSide;
import dev.conclab.lab.experiments.asyncio.ThreadsAndLoopPython.PySide;
import dev.conclab.lab.experiments.asyncio.ThreadsAndLoopPython.StepResult;

import java.util.List;

/**
 * Threads and an event loop: the thread-safe bridges, and a non-thread-safe call from a thread, forced on every
 * round.
 *
 * <p>An event loop's queues belong to its one thread. When it has nothing ready it sleeps in {@code select()} until
 * its earliest timer is due; another thread that wants it to do something must both queue the work and <em>wake</em>
 * it. Each round gives the loop exactly one timer, due T ms later ({@code timer-ms}), and a worker thread that acts
 * only once the loop is asleep in {@code select} — CPython's probe gives its loop a selector that reports that moment
 * through an event; on the JVM the worker waits until the loop thread's stack shows it inside {@code Selector.select}.
 * <ol>
 *   <li><b>Broken — {@code loop.call_soon(cb)} from the worker.</b> It appends to the ready queue but does not wake
 *       the loop: cb runs only when the timer wakes it, T ms later, on every round. With
 *       {@code asyncio.run(debug=True)} the same call raises
 *       {@code RuntimeError: Non-thread-safe operation invoked on an event loop other than the current one}
 *       (captured).</li>
 *   <li><b>{@code loop.call_soon_threadsafe(cb)}</b> also writes a byte to the loop's self-pipe: select returns and
 *       cb runs within a millisecond or so.</li>
 *   <li><b>Broken — {@code fut.set_result(v)} on an {@code asyncio.Future} from the worker.</b> The coroutine
 *       awaiting it is woken through {@code call_soon}: it too waits for the timer.
 *       <b>{@code loop.call_soon_threadsafe(fut.set_result, v)}</b> resumes it at once.</li>
 *   <li><b>{@code asyncio.run_coroutine_threadsafe(coro, loop)}</b> from the worker returns a
 *       {@code concurrent.futures.Future} the worker can block on with {@code result(timeout)}.</li>
 *   <li><b>{@code asyncio.to_thread(f)}</b> from the loop runs a blocking f on the loop's default
 *       {@code ThreadPoolExecutor}; f stays blocked until the loop has run a few heartbeats, which proves the loop was
 *       free meanwhile.</li>
 * </ol>
 * The JVM side runs the same hand-offs on the toolkit's {@code SelectorEventLoop}, which checks the thread on every
 * call (asyncio does so only in debug mode): {@code callSoon} and {@code LoopFuture.setResult} from the worker are
 * refused with an {@code IllegalStateException} that names both threads. {@code callSoonThreadsafe} (a concurrent
 * queue plus {@code Selector.wakeup()}) wakes it at once, for a callback and for completing a future a task awaits.
 * A {@code CompletableFuture} is the JVM's thread-safe bridge in both directions — with one catch shown in the
 * table: its {@code whenComplete} action runs on the thread that completed it (the worker), so that action must hop
 * to the loop with {@code callSoonThreadsafe} rather than touch loop state. {@code runInExecutor} is
 * {@code run_in_executor}.
 *
 * <p>Every outcome is forced (the worker acts only once the loop sleeps in select; the blocking call is released by
 * the loop's own heartbeats), so the broken versions fail and the safe ones hold on every round. Without a CPython 3
 * the CPython claims are skipped with the reason.
 *
 * <p>Run: {@code ./conclab run threads-and-loop -p timer-ms=1000}. Expect the broken CPython calls to take effect
 * T ms after they were made (exactly when the timer is due), every thread-safe hand-off within a millisecond, the
 * debug-mode RuntimeError, and both toolkit refusals.
 */
public final class ThreadsAndLoop implements Experiment {

    static final ClaimSpec JVM_FOREIGN_REFUSED = new ClaimSpec("jvm-foreign-refused",
            "The toolkit loop refuses callSoon and LoopFuture.setResult from another thread while it runs: each"
                    + " throws IllegalStateException, on every round (asyncio checks this only in debug mode).");
    static final ClaimSpec JVM_THREADSAFE = new ClaimSpec("jvm-threadsafe",
            "callSoonThreadsafe from a worker wakes the toolkit loop out of Selector.select: the callback runs before"
                    + " the T ms timer, within T/2, on every round.");
    static final ClaimSpec JVM_FUTURE_THREADSAFE = new ClaimSpec("jvm-future-threadsafe",
            "Completing a LoopFuture through callSoonThreadsafe resumes the task awaiting it before the T ms timer,"
                    + " within T/2, on every round.");
    static final ClaimSpec JVM_COMPLETABLE_FUTURE = new ClaimSpec("jvm-completable-future",
            "A CompletableFuture bridges both ways: a worker blocks on one that a loop callback completes, and one a"
                    + " worker completes reaches the loop through whenComplete and callSoonThreadsafe; whenComplete's"
                    + " action runs on the worker's thread, not the loop's.");
    static final ClaimSpec JVM_RUN_IN_EXECUTOR = new ClaimSpec("jvm-run-in-executor",
            "runInExecutor runs a blocking call on a pool thread while the loop goes on: the call stays blocked until"
                    + " the loop has run 5 heartbeats, and its result arrives on the loop thread.");
    static final ClaimSpec PY_CALL_SOON_BROKEN = new ClaimSpec("py-call-soon-broken",
            "Broken: loop.call_soon from a worker thread while the loop waits in select does not wake it: the"
                    + " callback runs only once the next timer is due, on every round.");
    static final ClaimSpec PY_THREADSAFE = new ClaimSpec("py-threadsafe",
            "loop.call_soon_threadsafe wakes the loop through its self-pipe: the callback runs before the T ms timer,"
                    + " within T/2, on every round.");
    static final ClaimSpec PY_FUTURE_BROKEN = new ClaimSpec("py-future-broken",
            "Broken: fut.set_result() on an asyncio.Future from a worker thread leaves the coroutine awaiting it"
                    + " asleep until the next timer is due, on every round.");
    static final ClaimSpec PY_FUTURE_THREADSAFE = new ClaimSpec("py-future-threadsafe",
            "loop.call_soon_threadsafe(fut.set_result, v) resumes the awaiting coroutine before the T ms timer,"
                    + " within T/2, on every round.");
    static final ClaimSpec PY_RUN_COROUTINE_THREADSAFE = new ClaimSpec("py-run-coroutine-threadsafe",
            "asyncio.run_coroutine_threadsafe returns a concurrent.futures.Future the worker can block on, and the"
                    + " coroutine runs before the T ms timer, within T/2, on every round.");
    static final ClaimSpec PY_TO_THREAD = new ClaimSpec("py-to-thread",
            "asyncio.to_thread runs a blocking function on a thread of the loop's default ThreadPoolExecutor while"
                    + " the loop goes on: the function stays blocked until the loop has run 5 heartbeats.");
    static final ClaimSpec PY_DEBUG_RAISES = new ClaimSpec("py-debug-raises",
            "In asyncio debug mode, loop.call_soon from another thread raises RuntimeError, 'Non-thread-safe"
                    + " operation invoked on an event loop other than the current one'.");

    /** Heartbeats the loop runs while a blocking call waits on another thread. */
    static final int BEATS = 5;
    /**
     * A thread-safe hand-off holds when its effect comes within this fraction of T. It takes well under a
     * millisecond; the margin is for a machine so busy that the woken loop thread waits for a core.
     */
    static final double PROMPT_FRACTION = 0.5;

    @Override
    public String id() {
        return "threads-and-loop";
    }

    @Override
    public String title() {
        return "Threads and an event loop: call_soon_threadsafe, run_coroutine_threadsafe and to_thread, and a"
                + " non-thread-safe call forced to fail";
    }

    @Override
    public String description() {
        return "A worker thread acts on an event loop that sleeps in select with one timer T ms away: call_soon and"
                + " Future.set_result from the thread wait the whole T ms (and raise in debug mode), while"
                + " call_soon_threadsafe, run_coroutine_threadsafe and to_thread hand over at once; the toolkit's JVM"
                + " loop refuses the unsafe calls, and CompletableFuture bridges both ways.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("timer-ms", "the loop's only timer, due this many ms after each round starts (T; the"
                        + " thread-safe hand-offs need the loop thread to get a core within T/2)",
                        50, 5_000, 300, 250),
                new Param.IntParam("rounds", "rounds of each step", 1, 50, 5, 3));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_FOREIGN_REFUSED, JVM_THREADSAFE, JVM_FUTURE_THREADSAFE, JVM_COMPLETABLE_FUTURE,
                JVM_RUN_IN_EXECUTOR, PY_CALL_SOON_BROKEN, PY_THREADSAFE, PY_FUTURE_BROKEN, PY_FUTURE_THREADSAFE,
                PY_RUN_COROUTINE_THREADSAFE, PY_TO_THREAD, PY_DEBUG_RAISES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int timerMs = ctx.intParam("timer-ms");
        int rounds = ctx.intParam("rounds");

        ctx.progress(0.02, "JVM: the toolkit loop and a worker thread");
        JvmSide jvm = ThreadsAndLoopJvm.run(ctx, timerMs, rounds);
        ctx.progress(0.5, "CPython: threads_and_loop.py");
        PySide py = ThreadsAndLoopPython.run(ctx, timerMs, rounds);

        Table.Builder table = Table.builder("A worker thread acts while the loop sleeps in select, its only timer due"
                        + " in " + timerMs + " ms (" + rounds + " rounds each)", "side", "what the worker does",
                "effect after, ms (min–max)", "rounds that waited for the timer", "outcome");
        if (py != null) {
            String side = "CPython " + py.version();
            row(table, side, "Broken: loop.call_soon(cb)", py.steps().get("call-soon"),
                    "cb runs only when the timer wakes the loop");
            row(table, side, "loop.call_soon_threadsafe(cb)", py.steps().get("call-soon-threadsafe"),
                    "self-pipe wakes select; cb runs at once");
            row(table, side, "Broken: fut.set_result(42)", py.steps().get("future-set-result"),
                    "the awaiting coroutine sleeps until the timer");
            row(table, side, "loop.call_soon_threadsafe(fut.set_result, 42)", py.steps().get("future-threadsafe"),
                    "the awaiting coroutine resumes at once");
            row(table, side, "asyncio.run_coroutine_threadsafe(coro, loop).result()",
                    py.steps().get("run-coroutine-threadsafe"), "returns a " + py.returns() + "; result "
                            + py.value());
            table.row(side, "debug mode: loop.call_soon(cb)", "—", "—", py.errorType() + ": " + py.errorMessage());
            table.row(side, "the loop: await asyncio.to_thread(blocking)", "—", "—", "ran on " + py.workerName()
                    + " of the default " + py.defaultExecutor() + " (max_workers " + py.maxWorkers() + "); the loop"
                    + " ran " + py.beats() + " heartbeats meanwhile");
        }
        ThreadsAndLoopJvm.Refusal refusal = jvm.refusals().getFirst();
        table.row("JVM", "Broken: loop.callSoon(cb)", "—", "—", refusal.callSoon());
        table.row("JVM", "Broken: future.setResult(42)", "—", "—", refusal.setResult());
        row(table, "JVM", "loop.callSoonThreadsafe(cb)", jvm.threadsafe(), "Selector.wakeup(); cb runs at once");
        row(table, "JVM", "loop.callSoonThreadsafe(() -> future.setResult(42))", jvm.futureThreadsafe(),
                "the awaiting task resumes at once");
        ThreadsAndLoopJvm.Bridge b = jvm.bridge();
        table.row("JVM", "blocks on a CompletableFuture the loop completes", "—", "—", "got " + b.workerGot()
                + "; completed on " + b.completedBy());
        table.row("JVM", "completes a CompletableFuture the loop waits for", "—", "—", "whenComplete ran on "
                + b.whenCompleteRanOn() + "; callSoonThreadsafe completed the loop future on "
                + b.loopFutureCompletedOn());
        ThreadsAndLoopJvm.Offload o = jvm.offload();
        table.row("JVM", "the loop: runInExecutor(pool, blocking)", "—", "—", "ran on " + o.ranOn() + "; the loop"
                + " ran " + o.beats() + " heartbeats meanwhile; result on " + o.resultOn());
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void row(Table.Builder table, String side, String what, StepResult s, String outcome) {
        table.row(side, what, String.format("%.2f–%.2f", s.minMs(), s.maxMs()), s.afterTimer() + " of "
                + s.rounds(), outcome);
    }

    private static void row(Table.Builder table, String side, String what, ThreadsAndLoopJvm.Prompt p,
                            String outcome) {
        table.row(side, what, String.format("%.2f–%.2f", p.minMs(), p.maxMs()), p.afterTimer() + " of "
                + p.rounds().size(), outcome);
    }
}
