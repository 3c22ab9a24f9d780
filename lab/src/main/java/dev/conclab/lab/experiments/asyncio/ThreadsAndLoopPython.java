package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPython half of {@link ThreadsAndLoop}: runs the {@code threads_and_loop.py} probe and judges its claims.
 * Not thread-safe; used once by one run.
 */
final class ThreadsAndLoopPython {

    /** One step of the probe: the delays from the worker's call to its effect, and how many rounds waited. */
    record StepResult(double minMs, double maxMs, int rounds, int afterTimer) {
    }

    /** What the probe measured. */
    record PySide(String version, Map<String, StepResult> steps, String returns, int value, boolean ranOnLoopThread,
                  String workerName, int beats, boolean released, String defaultExecutor, int maxWorkers,
                  String errorType, String errorMessage) {
    }

    /** The probe's steps, in the order of the table. */
    static final List<String> STEPS = List.of("call-soon", "call-soon-threadsafe", "future-set-result",
            "future-threadsafe", "run-coroutine-threadsafe");

    static final String DEBUG_MESSAGE = "Non-thread-safe operation invoked on an event loop other than the current"
            + " one";

    private ThreadsAndLoopPython() {
    }

    /** Runs the probe and judges the CPython claims; returns null (claims skipped) without a CPython 3. */
    static PySide run(RunContext ctx, int timerMs, int rounds) throws Exception {
        long budget = 30_000 + (long) STEPS.size() * rounds * timerMs;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("threads_and_loop.py", List.of(), Duration.ofMillis(budget),
                "--timer-ms", Integer.toString(timerMs),
                "--rounds", Integer.toString(rounds),
                "--beats", Integer.toString(ThreadsAndLoop.BEATS));
        return switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, ThreadsAndLoop.PY_CALL_SOON_BROKEN, ThreadsAndLoop.PY_THREADSAFE,
                        ThreadsAndLoop.PY_FUTURE_BROKEN, ThreadsAndLoop.PY_FUTURE_THREADSAFE,
                        ThreadsAndLoop.PY_RUN_COROUTINE_THREADSAFE, ThreadsAndLoop.PY_TO_THREAD,
                        ThreadsAndLoop.PY_DEBUG_RAISES);
                ctx.note("CPython side skipped: " + missing.reason());
                yield null;
            }
            case ProbeOutcome.Ran ran -> {
                PySide py = parse(ran.json(), ran.interpreter().version());
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in "
                        + String.format("%.1f s", ran.seconds()));
                judge(ctx, py, timerMs, rounds);
                yield py;
            }
        };
    }

    private static PySide parse(JsonNode json, String version) {
        Map<String, StepResult> steps = new LinkedHashMap<>();
        for (String step : STEPS) {
            JsonNode s = json.path("steps").path(step);
            steps.put(step, new StepResult(number(s, "min_ms", json), number(s, "max_ms", json),
                    (int) number(s, "rounds", json), (int) number(s, "after_timer", json)));
        }
        JsonNode rct = json.path("run_coroutine_threadsafe");
        JsonNode toThread = json.path("to_thread");
        JsonNode debug = json.path("debug");
        return new PySide(version, steps, rct.path("returns").asText(), rct.path("value").asInt(),
                toThread.path("ran_on_loop_thread").asBoolean(true), toThread.path("thread_name").asText(),
                (int) number(toThread, "beats_seen", json), toThread.path("released").asBoolean(false),
                toThread.path("default_executor").asText(), (int) number(toThread, "max_workers", json),
                debug.path("error_type").asText(null), debug.path("error_message").asText(null));
    }

    private static void judge(RunContext ctx, PySide py, int timerMs, int rounds) {
        broken(ctx, ThreadsAndLoop.PY_CALL_SOON_BROKEN, py.steps().get("call-soon"), "loop.call_soon(cb) from a"
                + " worker thread", timerMs, rounds);
        prompt(ctx, ThreadsAndLoop.PY_THREADSAFE, py.steps().get("call-soon-threadsafe"),
                "loop.call_soon_threadsafe(cb)", timerMs, rounds);
        broken(ctx, ThreadsAndLoop.PY_FUTURE_BROKEN, py.steps().get("future-set-result"), "fut.set_result(42) from a"
                + " worker thread", timerMs, rounds);
        prompt(ctx, ThreadsAndLoop.PY_FUTURE_THREADSAFE, py.steps().get("future-threadsafe"),
                "loop.call_soon_threadsafe(fut.set_result, 42)", timerMs, rounds);
        StepResult rct = py.steps().get("run-coroutine-threadsafe");
        boolean concurrentFuture = "concurrent.futures._base.Future".equals(py.returns()) && py.value() == 42;
        ctx.claim(ThreadsAndLoop.PY_RUN_COROUTINE_THREADSAFE, Verdict.check(concurrentFuture
                        && rct.afterTimer() == 0 && rct.maxMs() <= ThreadsAndLoop.PROMPT_FRACTION * timerMs,
                String.format("it returned a %s whose result(timeout) gave %d in the worker; the coroutine ran"
                                + " %.2f–%.2f ms after the call, before the %d ms timer in %d of %d rounds (needs"
                                + " concurrent.futures.Future, 42, and all rounds ≤ %.0f ms)", py.returns(),
                        py.value(), rct.minMs(), rct.maxMs(), timerMs, rct.rounds() - rct.afterTimer(),
                        rct.rounds(), ThreadsAndLoop.PROMPT_FRACTION * timerMs)));
        ctx.claim(ThreadsAndLoop.PY_TO_THREAD, Verdict.check(!py.ranOnLoopThread() && py.released()
                        && py.beats() >= ThreadsAndLoop.BEATS
                        && py.defaultExecutor().endsWith("ThreadPoolExecutor"),
                String.format("the blocking function ran on thread %s (%s the loop's thread) of the loop's default"
                                + " %s (max_workers %d), and stayed blocked until the loop had run %d heartbeats"
                                + " (released: %s; needs another thread, a ThreadPoolExecutor and ≥ %d heartbeats)",
                        py.workerName(), py.ranOnLoopThread() ? "which is" : "not", py.defaultExecutor(),
                        py.maxWorkers(), py.beats(), py.released(), ThreadsAndLoop.BEATS)));
        ctx.claim(ThreadsAndLoop.PY_DEBUG_RAISES, Verdict.check("RuntimeError".equals(py.errorType())
                        && DEBUG_MESSAGE.equals(py.errorMessage()),
                String.format("asyncio.run(debug=True), loop.call_soon from a worker thread raised %s: %s",
                        py.errorType(), py.errorMessage())));
    }

    private static void broken(RunContext ctx, ClaimSpec claim, StepResult step, String how, int timerMs,
                               int rounds) {
        ctx.claim(claim, Verdict.check(step.rounds() == rounds && step.afterTimer() == rounds,
                String.format("%s while the loop waited in select: the effect came %.1f–%.1f ms after the call, only"
                                + " once the %d ms timer was due, in %d of %d rounds (needs all)", how, step.minMs(),
                        step.maxMs(), timerMs, step.afterTimer(), step.rounds())));
    }

    private static void prompt(RunContext ctx, ClaimSpec claim, StepResult step, String how, int timerMs,
                               int rounds) {
        double bound = ThreadsAndLoop.PROMPT_FRACTION * timerMs;
        ctx.claim(claim, Verdict.check(step.rounds() == rounds && step.afterTimer() == 0 && step.maxMs() <= bound,
                String.format("%s while the loop waited in select: the effect came %.2f–%.2f ms after the call,"
                                + " before the %d ms timer in %d of %d rounds (needs all, each ≤ %.0f ms)", how,
                        step.minMs(), step.maxMs(), timerMs, step.rounds() - step.afterTimer(), step.rounds(),
                        bound)));
    }

    private static double number(JsonNode node, String key, JsonNode whole) {
        JsonNode value = node.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe threads_and_loop.py printed no number at " + key + ": " + whole);
        }
        return value.asDouble();
    }
}
