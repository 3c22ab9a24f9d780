package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPython half of {@link CpuStarvation}: runs the {@code cpu_starvation.py} probe and judges its claims.
 * Not thread-safe; used once by one run.
 */
final class CpuStarvationPython {

    /** The probe's variants, in the order of the table. */
    static final List<String> VARIANTS = List.of("baseline", "on-loop", "to-thread", "process", "yield", "cpu-loop");

    /** What the probe measured. */
    record PySide(String version, double switchIntervalMs, Map<String, Lateness> variants,
                  double slowCallbackSeconds, List<String> onLoopWarnings, List<String> yieldWarnings) {
    }

    private CpuStarvationPython() {
    }

    /** Runs the probe and judges the CPython claims; returns null (claims skipped) without a CPython 3. */
    static PySide run(RunContext ctx, int cpuMs, int chunkMs) throws Exception {
        int repeat = ctx.quick() ? 2 : 3;
        // Six variants of cpu-ms + 40 ms each per repeat (their work may take up to twice as long), plus the
        // debug runs and the process pool's start.
        long budget = 30_000 + (long) repeat * 6 * (2L * cpuMs + 40) * 2;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cpu_starvation.py", List.of(), Duration.ofMillis(budget),
                "--cpu-ms", Integer.toString(cpuMs),
                "--chunk-ms", Integer.toString(chunkMs),
                "--gap-ms", Integer.toString(CpuStarvation.GAP_MS),
                "--lead-ms", Integer.toString(CpuStarvation.LEAD_MS),
                "--repeat", Integer.toString(repeat));
        return switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, CpuStarvation.PY_ON_LOOP_STARVES, CpuStarvation.PY_PROCESS_POOL,
                        CpuStarvation.PY_TO_THREAD_GIL, CpuStarvation.PY_YIELD, CpuStarvation.PY_CPU_LOOP,
                        CpuStarvation.PY_DEBUG_DETECTS);
                ctx.note("CPython side skipped: " + missing.reason());
                yield null;
            }
            case ProbeOutcome.Ran ran -> {
                PySide py = parse(ran);
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in "
                        + String.format("%.1f s", ran.seconds()));
                judge(ctx, py, cpuMs, chunkMs, repeat);
                yield py;
            }
        };
    }

    private static PySide parse(ProbeOutcome.Ran ran) {
        JsonNode json = ran.json();
        Map<String, Lateness> variants = new LinkedHashMap<>();
        for (String name : VARIANTS) {
            JsonNode v = json.path("variants").path(name);
            variants.put(name, new Lateness(number(v, "p50_ms", json), number(v, "p99_ms", json),
                    number(v, "max_ms", json), (int) number(v, "requests", json), number(v, "handler_ms", json)));
        }
        JsonNode detector = json.path("detector");
        return new PySide(ran.interpreter().version(), number(json, "switch_interval_s", json) * 1e3, variants,
                number(detector, "slow_callback_duration_s", json), strings(detector.path("on_loop_warnings")),
                strings(detector.path("yield_warnings")));
    }

    private static void judge(RunContext ctx, PySide py, int cpuMs, int chunkMs, int repeat) {
        Lateness onLoop = py.variants().get("on-loop");
        ctx.claim(CpuStarvation.PY_ON_LOOP_STARVES, Verdict.check(onLoop.p99Ms() >= 0.8 * onLoop.handlerMs(),
                String.format("CPU-bound handler on the asyncio loop ran %.1f ms; the other requests' p99 lateness"
                                + " was %.1f ms (%.2f× its run time; p50 %.1f ms, max %.1f ms; baseline p99 %.1f ms);"
                                + " smallest p99 of %d runs (needs ≥ 0.8×)", onLoop.handlerMs(), onLoop.p99Ms(),
                        onLoop.p99Ms() / onLoop.handlerMs(), onLoop.p50Ms(), onLoop.maxMs(),
                        py.variants().get("baseline").p99Ms(), repeat)));
        double bound = CpuStarvation.CURE_FRACTION * cpuMs;
        cure(ctx, CpuStarvation.PY_PROCESS_POOL, py.variants().get("process"), "run_in_executor(ProcessPoolExecutor)",
                cpuMs, repeat);
        cure(ctx, CpuStarvation.PY_YIELD, py.variants().get("yield"),
                "await asyncio.sleep(0) every ~" + chunkMs + " ms chunk", cpuMs, repeat);
        cure(ctx, CpuStarvation.PY_CPU_LOOP, py.variants().get("cpu-loop"),
                "a second loop in its own thread (run_coroutine_threadsafe)", cpuMs, repeat);
        Lateness toThread = py.variants().get("to-thread");
        double gilFloor = 0.8 * py.switchIntervalMs();
        ctx.claim(CpuStarvation.PY_TO_THREAD_GIL, Verdict.check(toThread.p99Ms() < bound
                        && toThread.p99Ms() >= gilFloor,
                String.format("asyncio.to_thread: p99 lateness %.1f ms (needs < %.0f ms = %.2f×%d ms) and ≥ %.1f ms ="
                                + " 0.8× the %.1f ms switch interval (the process pool's p99: %.1f ms; baseline"
                                + " %.1f ms); smallest p99 of %d runs", toThread.p99Ms(), bound,
                        CpuStarvation.CURE_FRACTION, cpuMs, gilFloor, py.switchIntervalMs(),
                        py.variants().get("process").p99Ms(), py.variants().get("baseline").p99Ms(), repeat)));
        boolean named = py.onLoopWarnings().stream().anyMatch(w -> w.startsWith("Executing")
                && w.contains("cpu-handler") && w.contains(" took "));
        ctx.claim(CpuStarvation.PY_DEBUG_DETECTS, Verdict.check(py.slowCallbackSeconds() == 0.1 && named
                        && py.yieldWarnings().isEmpty(),
                String.format("loop.slow_callback_duration = %s s; on-loop handler: %d warning(s)%s; chunked"
                                + " handler: %d warning(s) (needs 0.1 s, a warning naming cpu-handler, and none; each"
                                + " tried up to %d runs)",
                        py.slowCallbackSeconds(), py.onLoopWarnings().size(),
                        py.onLoopWarnings().isEmpty() ? "" : ", e.g. \"" + shorten(py.onLoopWarnings().getFirst())
                                + "\"", py.yieldWarnings().size(), repeat)));
    }

    private static void cure(RunContext ctx, ClaimSpec claim, Lateness cure, String how, int cpuMs, int repeat) {
        ctx.claim(claim, CpuStarvation.cure(how, cure, cpuMs, repeat));
    }

    /** The start of asyncio's warning and its "took … seconds" end, without the long Task repr between. */
    static String shorten(String warning) {
        int took = warning.lastIndexOf(" took ");
        if (warning.length() <= 120 || took < 0) {
            return warning;
        }
        return warning.substring(0, Math.min(60, took)) + " … " + warning.substring(took + 1);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static double number(JsonNode node, String key, JsonNode whole) {
        JsonNode value = node.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe cpu_starvation.py printed no number at " + key + ": " + whole);
        }
        return value.asDouble();
    }
}
