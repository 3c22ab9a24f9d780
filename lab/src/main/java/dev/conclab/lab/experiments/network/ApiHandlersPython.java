package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;

/**
 * The CPython half of {@link ApiHandlers} and {@link AsyncFrameworks}: runs the {@code api_handlers.py} probe
 * (FastAPI on uvicorn, loaded by aiohttp) and reads what it measured. Not thread-safe; used once by one run.
 */
final class ApiHandlersPython {

    /** The modules the probe imports beyond the standard library. */
    static final List<String> MODULES = List.of("fastapi", "uvicorn", "aiohttp");

    /** One stream of one case, as the probe measured it. */
    record PyStream(String path, int clients, long requests, double throughput, double p50Ms, double p99Ms) {
    }

    /** The server's counters of one kind of endpoint during one case. */
    record PyKind(int peak, int threads, long calls) {
    }

    /** One case: its streams and the server's counters. */
    record PyCase(List<PyStream> streams, PyKind async, PyKind def, PyKind broken) {
        PyStream first() {
            return streams.getFirst();
        }
    }

    /** What the probe measured. */
    record PySide(String versions, int totalTokens, boolean loopOnMainThread, int ioMs, JsonNode json) {
        PyCase kase(String name) {
            JsonNode c = json.path("cases").path(name);
            if (!c.isObject()) {
                throw new ProbeException("probe api_handlers.py printed no case " + name + ": " + json);
            }
            List<PyStream> streams = new java.util.ArrayList<>();
            c.path("streams").forEach(s -> streams.add(new PyStream(s.path("path").asText(),
                    s.path("clients").asInt(), s.path("requests").asLong(), number(s, "throughput"),
                    number(s, "p50_ms"), number(s, "p99_ms"))));
            JsonNode server = c.path("server");
            return new PyCase(streams, kind(server.path("async")), kind(server.path("def")),
                    kind(server.path("broken")));
        }
    }

    /** The Broken case: its neighbours wait {@value #SHORT_IO_MS} ms, less than the blocking sleep lasts. */
    static final int SHORT_IO_MS = 50;
    static final int SHORT_CLIENTS = 20;
    static final int BROKEN_MS = 300;
    static final int BROKEN_CLIENTS = 1;

    private ApiHandlersPython() {
    }

    /**
     * Runs the probe with the given cases.
     *
     * @return what it measured, or null when no CPython with FastAPI, uvicorn and aiohttp is here (the reason is
     *         then a note; the caller skips its claims)
     */
    static PySide probe(RunContext ctx, String cases, int clients, int ioMs, double seconds)
            throws InterruptedException {
        int count = cases.split(",").length;
        Duration budget = Duration.ofMillis(30_000 + (long) (count * (seconds * 1000 + 3 * ioMs + BROKEN_MS) * 2));
        ProbeOutcome outcome = PythonProbes.of(ctx).run("api_handlers.py", MODULES, budget,
                "--clients", Integer.toString(clients), "--io-ms", Integer.toString(ioMs),
                "--short-io-ms", Integer.toString(SHORT_IO_MS), "--short-clients", Integer.toString(SHORT_CLIENTS),
                "--broken-ms", Integer.toString(BROKEN_MS), "--broken-clients", Integer.toString(BROKEN_CLIENTS),
                "--seconds", Double.toString(seconds), "--cases", cases);
        return switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                ctx.note("CPython side skipped: " + missing.reason());
                yield null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String versions = String.format("CPython %s, FastAPI %s, Starlette %s, anyio %s, uvicorn %s (asyncio"
                                + " loop, h11), aiohttp %s", json.path("python").asText(), json.path("fastapi").asText(),
                        json.path("starlette").asText(), json.path("anyio").asText(), json.path("uvicorn").asText(),
                        json.path("aiohttp").asText());
                ctx.note("CPython side: " + versions + "; probe ran in " + String.format("%.1f s", ran.seconds()));
                yield new PySide(versions, json.path("total_tokens").asInt(-1),
                        json.path("loop_thread_is_main").asBoolean(), json.path("io_ms").asInt(), json);
            }
        };
    }

    /** The api-handlers cases: async def and def under many waiting clients, and the Broken sleep in async def. */
    static void run(RunContext ctx, int clients, int ioMs) throws InterruptedException {
        double seconds = ctx.quick() ? 0.8 : 3;
        PySide py = probe(ctx, "async-io,def-io,broken-baseline,broken", clients, ioMs, seconds);
        if (py == null) {
            for (var claim : List.of(ApiHandlers.PY_ASYNC_DEF, ApiHandlers.PY_DEF_POOL, ApiHandlers.PY_BROKEN)) {
                ctx.claim(claim, Verdict.skipped("no CPython 3 with fastapi, uvicorn and aiohttp (Debian's"
                        + " python3-fastapi, uvicorn, python3-aiohttp)"));
            }
            return;
        }
        PyCase async = py.kase("async-io");
        PyCase def = py.kase("def-io");
        PyCase base = py.kase("broken-baseline");
        PyCase broken = py.kase("broken");

        Table.Builder table = Table.builder("The same endpoints on " + py.versions() + "; " + seconds + " s of"
                        + " closed-loop load per case", "case", "clients", "requests/s", "p50 ms", "p99 ms",
                "handlers at once (peak)", "threads that ran them");
        table.row("async def /io-async (await asyncio.sleep)", async.first().clients(),
                Math.round(async.first().throughput()), ApiHandlers.round(async.first().p50Ms()),
                ApiHandlers.round(async.first().p99Ms()), async.async().peak(), async.async().threads());
        table.row("def /io-def (time.sleep in anyio's thread pool)", def.first().clients(),
                Math.round(def.first().throughput()), ApiHandlers.round(def.first().p50Ms()),
                ApiHandlers.round(def.first().p99Ms()), def.def().peak(), def.def().threads());
        table.row(base.first().path() + " alone", base.first().clients(), Math.round(base.first().throughput()),
                ApiHandlers.round(base.first().p50Ms()), ApiHandlers.round(base.first().p99Ms()),
                base.async().peak(), base.async().threads());
        table.row(broken.first().path() + " beside Broken", broken.first().clients(),
                Math.round(broken.first().throughput()), ApiHandlers.round(broken.first().p50Ms()),
                ApiHandlers.round(broken.first().p99Ms()), broken.async().peak(), broken.async().threads());
        PyStream b = broken.streams().get(1);
        table.row("Broken " + b.path() + " (time.sleep in async def)", b.clients(), Math.round(b.throughput()),
                ApiHandlers.round(b.p50Ms()), ApiHandlers.round(b.p99Ms()), broken.broken().peak(),
                broken.broken().threads());
        ctx.table(table.build());

        double ratio = async.first().throughput() / def.first().throughput();
        // The client and the server are two CPython processes: each needs a core of its own.
        if (ctx.requireCores(ApiHandlers.PY_ASYNC_DEF, 2)) {
            ctx.claim(ApiHandlers.PY_ASYNC_DEF, Verdict.check(async.async().threads() == 1 && ratio >= 1.3,
                    String.format("%d clients waiting %d ms: async def %.0f requests/s on %d thread(s) with %d handlers"
                                    + " at once (p50 %.1f ms); def %.0f requests/s (p50 %.1f ms); %.2f× (needs one"
                                    + " thread and ≥ 1.3×)", clients, ioMs, async.first().throughput(),
                            async.async().threads(), async.async().peak(), async.first().p50Ms(),
                            def.first().throughput(), def.first().p50Ms(), ratio)));
        }
        double cap = 40 * 1000.0 / ioMs;
        ctx.claim(ApiHandlers.PY_DEF_POOL, Verdict.check(py.totalTokens() == 40 && def.def().peak() >= 40 && def.def().peak() <= 41
                        && def.first().throughput() <= 1.1 * cap,
                String.format("anyio's default thread limiter: total_tokens = %d (needs 40); %d clients on the def"
                                + " endpoint: at most %d handlers ran at once on %d threads (needs 40 or 41); %.0f"
                                + " requests/s = %.2f× the cap 40 / %d ms = %.0f (needs ≤ 1.1×); p50 %.1f ms",
                        py.totalTokens(), clients, def.def().peak(), def.def().threads(), def.first().throughput(),
                        def.first().throughput() / cap, ioMs, cap, def.first().p50Ms())));
        if (ctx.requireCores(ApiHandlers.PY_BROKEN, 2)) {
            ctx.claim(ApiHandlers.PY_BROKEN, Verdict.check(broken.first().p50Ms() >= 2 * base.first().p50Ms(),
                    String.format("%s alone: p50 %.1f ms; beside %d client calling an async def that runs time.sleep(%d"
                                    + " ms): p50 %.1f ms, p99 %.1f ms (%.1f× the baseline, needs ≥ 2×)",
                            base.first().path(), base.first().p50Ms(), BROKEN_CLIENTS, BROKEN_MS,
                            broken.first().p50Ms(), broken.first().p99Ms(),
                            broken.first().p50Ms() / base.first().p50Ms())));
        }
    }

    private static PyKind kind(JsonNode k) {
        return new PyKind(k.path("peak").asInt(), k.path("threads").asInt(), k.path("calls").asLong());
    }

    private static double number(JsonNode node, String key) {
        JsonNode value = node.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe api_handlers.py printed no number at " + key + ": " + node);
        }
        return value.asDouble();
    }
}
