package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.LoopStall;
import dev.conclab.toolkit.loop.SelectorEventLoop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A stuck event loop, found while it is stuck, and the fix.
 *
 * <ol>
 *   <li><b>Broken — the loop waits for itself.</b> A callback on the toolkit's {@link SelectorEventLoop} asks a
 *       worker thread for a value, and the worker hands the value back with {@code callSoonThreadsafe} (the only
 *       correct way into the loop). The callback then blocks in {@code CompletableFuture.get()} for that value: the
 *       reply is queued behind the very callback that waits for it, so the loop can never run it. This is the
 *       classic self-deadlock of an event loop (in asyncio, {@code run_coroutine_threadsafe(...).result()} called on
 *       the loop's own thread). The loop's stall watchdog reports the callback with the loop thread's stack; its
 *       listener then frees the loop (completes the future from the watchdog thread), so the demonstration always
 *       ends.</li>
 *   <li><b>Fixed — the loop awaits.</b> The same request, but the callback returns at once and the reply's callback
 *       carries on: the watchdog reports nothing and the reply arrives.</li>
 * </ol>
 * CPython (probe {@code stuck_loop.py}) has no built-in stall watchdog; the probe finds a blocked loop with
 * {@code faulthandler.dump_traceback_later} and with a watchdog thread reading {@code sys._current_frames()}, and a
 * task stuck in an await (the loop fine, the task never woken) with {@code asyncio.all_tasks()} and
 * {@code Task.get_stack()}. Every stall is forced: the blocked code waits for the tool's report (bounded).
 *
 * <p>Stateless: every loop is closed (which stops and joins its watchdog) and every worker thread joined before
 * {@code run} returns.
 *
 * <p>Run: {@code ./conclab run stuck-loop}. Expect one stall report naming {@code StuckLoop.blockOnOwnLoop}, the reply
 * run only after the watchdog freed the loop, none in the fixed version, and the three Python tools naming the
 * blocking function or the stuck task's coroutine.
 */
public final class StuckLoop implements Experiment {

    static final ClaimSpec WATCHDOG_FINDS = new ClaimSpec("watchdog-finds-self-wait",
            "Broken: a loop callback that blocks on a reply the loop itself must deliver never gets it; the toolkit"
                    + " loop's watchdog reports the stall with the loop thread's stack naming the blocking method,"
                    + " and the reply runs only after the stall is broken.");
    static final ClaimSpec FIXED_NO_STALL = new ClaimSpec("fixed-no-stall",
            "Fixed: when the callback returns and the reply's callback carries on, the same request completes and the"
                    + " watchdog reports no stall.");
    static final ClaimSpec PY_FAULTHANDLER = new ClaimSpec("py-faulthandler",
            "faulthandler.dump_traceback_later dumps the stacks of a blocked asyncio program after the timeout,"
                    + " naming the function that blocks the loop.");
    static final ClaimSpec PY_CURRENT_FRAMES = new ClaimSpec("py-current-frames",
            "A watchdog thread that gets no heartbeat from the loop reads the loop thread's stack with"
                    + " sys._current_frames(), and it names the blocking function above asyncio's _run_once.");
    static final ClaimSpec PY_ALL_TASKS = new ClaimSpec("py-all-tasks",
            "A task stuck in an await is listed by asyncio.all_tasks() as not done, and Task.get_stack() shows the"
                    + " coroutine it is suspended in.");

    private static final long GIVE_UP_SECONDS = 10;

    @Override
    public String id() {
        return "stuck-loop";
    }

    @Override
    public String title() {
        return "A stuck event loop found by its watchdog, faulthandler and asyncio.all_tasks";
    }

    @Override
    public String description() {
        return "Blocks the toolkit event loop on a reply only the loop can deliver, finds it with the loop's stall"
                + " watchdog (the blocking frame named) and fixes it; beside CPython's faulthandler timeout dump,"
                + " sys._current_frames from a watchdog thread, and asyncio.all_tasks with task stacks.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("threshold-ms", "the watchdog's stall threshold", 10, 2_000, 200, 200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(WATCHDOG_FINDS, FIXED_NO_STALL, PY_FAULTHANDLER, PY_CURRENT_FRAMES, PY_ALL_TASKS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Duration threshold = Duration.ofMillis(ctx.intParam("threshold-ms"));
        Table.Builder table = Table.builder("Finding a stuck event loop", "runtime", "the stuck program", "tool",
                "what the tool reported");
        ctx.progress(0.05, "toolkit loop: a callback waits for its own loop");
        broken(ctx, threshold, table);
        ctx.progress(0.3, "toolkit loop: the fix");
        fixed(ctx, threshold, table);
        ctx.progress(0.45, "CPython: stuck_loop.py");
        python(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- Broken: the loop waits for itself ---------------------------------------------------------------------

    /** What happened in one run of the request on the loop. */
    private record Outcome(List<LoopStall> stalls, String reply, boolean replyRanAfterStall) {
    }

    private static void broken(RunContext ctx, Duration threshold, Table.Builder table) throws Exception {
        List<LoopStall> stalls = new CopyOnWriteArrayList<>();
        CompletableFuture<String> reply = new CompletableFuture<>();
        String[] seen = new String[1];
        boolean[] afterStall = new boolean[1];
        Thread worker;
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("stuck-loop")
                .watchdog(threshold, stall -> {
                    stalls.add(stall);
                    // Recovery, so the demonstration always ends: the watchdog completes what the loop waits for.
                    reply.complete("freed by the watchdog");
                }).build()) {
            LoopFuture<Void> done = loop.createFuture("request");
            Thread[] started = new Thread[1];
            loop.callSoon("asks a worker, then waits", () -> {
                started[0] = Thread.ofPlatform().name("stuck-loop-worker").start(() ->
                        loop.callSoonThreadsafe("delivers the reply", () -> {
                            afterStall[0] = !stalls.isEmpty();
                            reply.complete("from the worker"); // too late: already completed by the watchdog
                        }));
                seen[0] = blockOnOwnLoop(reply);
                loop.callSoon("finish", () -> done.setResult(null)); // after the reply's callback has run
            });
            loop.runUntilComplete(done);
            worker = started[0];
        } // close() stops and joins the watchdog
        worker.join(TimeUnit.SECONDS.toMillis(GIVE_UP_SECONDS));
        String expected = StuckLoop.class.getName() + ".blockOnOwnLoop";
        LoopStall stall = stalls.isEmpty() ? null : stalls.getFirst();
        String frame = stall == null ? "no report" : stall.blockingFrame()
                .map(f -> f.getClassName() + "." + f.getMethodName()).orElse("no application frame");
        String top = stall == null ? "—" : stall.topFrame().map(f -> f.getClassName() + "." + f.getMethodName())
                .orElse("?");
        table.row("JVM", "Broken: callback blocks in get() on a reply posted back to its own loop",
                "SelectorEventLoop watchdog (" + threshold.toMillis() + " ms)", stall == null ? "nothing"
                        : String.format("\"%s\" stalled %d ms, blocked at %s (top: %s); reply \"%s\"; the reply's"
                                + " callback ran after the report: %s", stall.callbackName(),
                        stall.stalledFor().toMillis(), simple(frame), simple(top), seen[0], afterStall[0]));
        ctx.claim(WATCHDOG_FINDS, Verdict.check(stall != null && stalls.size() == 1 && frame.equals(expected)
                && stall.stalledFor().compareTo(threshold) >= 0 && "freed by the watchdog".equals(seen[0])
                && afterStall[0], stall == null ? "the watchdog made no report within " + GIVE_UP_SECONDS + " s"
                : String.format("%d report(s); callback \"%s\" stalled %d ms (threshold %d), blocked at %s (needs %s);"
                        + " the callback got \"%s\" and the worker's reply ran after the report: %s (needs one"
                        + " report, freed by the watchdog, true)", stalls.size(), stall.callbackName(),
                stall.stalledFor().toMillis(), threshold.toMillis(), frame, expected, seen[0], afterStall[0])));
    }

    /** The stuck frame: waits for a reply that only the loop, blocked right here, could deliver. */
    private static String blockOnOwnLoop(CompletableFuture<String> reply) {
        try {
            return reply.get(GIVE_UP_SECONDS, TimeUnit.SECONDS); // bounded, so a broken watchdog cannot hang the lab
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (ExecutionException | TimeoutException e) {
            return "gave up: " + e;
        }
    }

    // ---- Fixed: the loop awaits ----------------------------------------------------------------------------------

    private static void fixed(RunContext ctx, Duration threshold, Table.Builder table) throws Exception {
        List<LoopStall> stalls = new CopyOnWriteArrayList<>();
        String reply;
        Thread[] started = new Thread[1];
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("awaiting-loop")
                .watchdog(threshold, stalls::add).build()) {
            LoopFuture<String> answer = loop.createFuture("reply");
            loop.callSoon("asks a worker and returns", () ->
                    started[0] = Thread.ofPlatform().name("awaiting-loop-worker").start(() ->
                            loop.callSoonThreadsafe("delivers the reply", () -> answer.setResult("from the worker"))));
            reply = loop.runUntilComplete(answer);
        }
        started[0].join(TimeUnit.SECONDS.toMillis(GIVE_UP_SECONDS));
        table.row("JVM", "Fixed: the callback returns; the reply's callback carries on",
                "SelectorEventLoop watchdog (" + threshold.toMillis() + " ms)",
                stalls.size() + " stall reports; reply \"" + reply + "\"");
        ctx.claim(FIXED_NO_STALL, Verdict.check(stalls.isEmpty() && "from the worker".equals(reply), String.format(
                "the reply was \"%s\" and the watchdog made %d report(s) (needs \"from the worker\", 0)", reply,
                stalls.size())));
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("stuck_loop.py", List.of(), Duration.ofSeconds(60));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_FAULTHANDLER, PY_CURRENT_FRAMES, PY_ALL_TASKS);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();

                JsonNode f = json.path("faulthandler");
                List<String> first = texts(f.path("first_lines"));
                table.row(py, "a coroutine blocks the loop", "faulthandler.dump_traceback_later(0.2)",
                        String.format("dumped after %.0f ms; names blocking_handler: %s, the coroutine main: %s; %s",
                                f.path("blocked_ms").asDouble(), f.path("names_blocking_frame").asBoolean(),
                                f.path("names_coroutine").asBoolean(), first.isEmpty() ? "" : first.getFirst()));
                ctx.claim(PY_FAULTHANDLER, Verdict.check(f.path("dumped").asBoolean()
                        && f.path("names_blocking_frame").asBoolean() && f.path("names_coroutine").asBoolean(),
                        String.format("a dump was written: %s; it names blocking_handler: %s and main: %s (needs"
                                        + " all true); %s", f.path("dumped").asBoolean(),
                                f.path("names_blocking_frame").asBoolean(), f.path("names_coroutine").asBoolean(),
                                py)));

                JsonNode c = json.path("current_frames");
                List<String> stack = texts(c.path("stack"));
                int app = stack.indexOf("blocking_handler");
                int runOnce = stack.indexOf("_run_once");
                table.row(py, "a coroutine blocks the loop", "watchdog thread + sys._current_frames()",
                        "loop thread's stack, innermost first: " + stack);
                ctx.claim(PY_CURRENT_FRAMES, Verdict.check(c.path("reported").asBoolean()
                        && "blocking_handler".equals(c.path("innermost_app_frame").asText())
                        && app >= 0 && runOnce > app, String.format(
                        "the watchdog read the stack %s; innermost application frame %s (needs blocking_handler,"
                                + " below asyncio's _run_once)", stack, c.path("innermost_app_frame").asText())));

                JsonNode pending = json.path("all_tasks").path("pending");
                List<String> found = new ArrayList<>();
                boolean stuckFound = false;
                for (JsonNode t : pending) {
                    List<String> frames = texts(t.path("frames"));
                    found.add(t.path("name").asText() + " " + frames + (t.path("done").asBoolean() ? " done"
                            : " pending"));
                    stuckFound |= "stuck-task".equals(t.path("name").asText()) && !t.path("done").asBoolean()
                            && frames.equals(List.of("waits_forever"));
                }
                table.row(py, "a task awaits a future nobody sets", "asyncio.all_tasks() + Task.get_stack()",
                        found.toString());
                ctx.claim(PY_ALL_TASKS, Verdict.check(stuckFound && pending.size() == 1, String.format(
                        "all_tasks() (without the caller) listed %s (needs exactly stuck-task, pending, suspended"
                                + " in waits_forever)", found)));
            }
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }

    private static String simple(String qualified) {
        int dot = qualified.lastIndexOf('.', qualified.lastIndexOf('.') - 1);
        return dot < 0 ? qualified : qualified.substring(dot + 1);
    }
}
