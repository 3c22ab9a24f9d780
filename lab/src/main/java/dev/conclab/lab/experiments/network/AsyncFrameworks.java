package dev.conclab.lab.experiments.network;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.network.ApiCase.Path;
import dev.conclab.lab.experiments.network.ApiHandlersPython.PyCase;
import dev.conclab.lab.experiments.network.ApiHandlersPython.PySide;
import dev.conclab.lab.experiments.network.ApiServer.Model;
import dev.conclab.lab.experiments.support.CpuWork;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * How async frameworks achieve concurrency: many requests in flight on few threads. The servers of
 * {@code api-handlers}, loaded with more clients waiting on I/O than any pool has threads, and asked who ran what.
 *
 * <p>What is counted, per server: the most requests in flight at once (called, response not yet complete), the
 * most handlers running at once (called, not yet returned), and the distinct threads that ran handlers or
 * completed responses.
 * <ul>
 *   <li><b>BASELINE — FastAPI {@code async def} on uvicorn.</b> Every handler runs on one thread, the event loop's;
 *       at {@code await asyncio.sleep} the coroutine is suspended and the loop serves the next request, so all the
 *       clients' waits are in flight at once on that one thread: concurrency without threads.</li>
 *   <li><b>FastAPI {@code def}.</b> The same wait as {@code time.sleep} in a plain function: FastAPI (through
 *       Starlette) runs it in anyio's worker-thread pool, whose default limiter has 40 tokens, so at most 40 wait at
 *       once and each holds a thread.</li>
 *   <li><b>JVM, async handlers.</b> Jetty's selector thread reads requests, a small pool runs the handlers, which
 *       return a {@code CompletableFuture} at once; one event thread completes them all: the same shape as
 *       uvicorn.</li>
 *   <li><b>JVM, virtual threads.</b> A blocking handler per request, each on its own virtual thread: the thread is
 *       cheap, so one per waiting request is fine, and the code stays blocking.</li>
 *   <li><b>JVM, fixed platform pool.</b> Blocking handlers on a few platform threads: never more running at once
 *       than the pool has threads, so the other requests queue (their throughput cost is
 *       {@code api-handlers › pool-exhausted}).</li>
 * </ul>
 * Run: {@code ./conclab run async-frameworks}. Expect 1 thread and every client in flight for {@code async def}, 40
 * handlers on 40 threads for {@code def}, 1 event thread for the JVM's async handlers with all clients in flight,
 * one virtual thread per client, and at most {@code pool-threads} handlers on the fixed pool.
 */
public final class AsyncFrameworks implements Experiment {

    static final ClaimSpec PY_ONE_LOOP = new ClaimSpec("py-one-loop-thread",
            "uvicorn runs every FastAPI async def handler on one thread, its event loop, yet all the clients'"
                    + " requests are in flight at once.");
    static final ClaimSpec PY_DEF_THREADS = new ClaimSpec("py-def-threads",
            "FastAPI runs def handlers on anyio's worker threads, 40 at once (the default limiter's total_tokens;"
                    + " anyio 3.6 may let a 41st in), each waiting request holding a thread.");
    static final ClaimSpec JVM_ASYNC_ONE_THREAD = new ClaimSpec("jvm-async-one-event-thread",
            "Async handlers on Jetty: one event thread completes every response while all the clients' requests"
                    + " are in flight, and no more handlers run at once than the small pool has threads.");
    static final ClaimSpec JVM_VIRTUAL_PER_REQUEST = new ClaimSpec("jvm-virtual-thread-per-request",
            "Virtual threads: each waiting request holds its own thread, so at least 0.9× as many handlers run at"
                    + " once as there are clients.");
    static final ClaimSpec JVM_POOL_BOUNDED = new ClaimSpec("jvm-pool-bounded",
            "A fixed platform pool never runs more handlers at once than it has threads, however many clients"
                    + " wait.");

    @Override
    public String id() {
        return "async-frameworks";
    }

    @Override
    public String title() {
        return "How async frameworks achieve concurrency: many requests in flight on one event-loop thread";
    }

    @Override
    public String description() {
        return "Loads FastAPI/uvicorn (async def vs def) and Javalin/Jetty (async handlers, virtual threads, a fixed"
                + " pool) with more I/O-waiting clients than any pool has threads, and counts requests in flight,"
                + " handlers running at once and the threads that ran them.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("clients", "concurrent clients waiting on /io (more than 40, anyio's tokens)",
                        41, 1_000, 64, 64),
                new Param.IntParam("io-ms", "the wait of /io, ms (long enough for every client to be in flight)",
                        100, 5_000, 400, 250),
                new Param.IntParam("pool-threads", "Jetty's platform pool size for the pool and async models", 4,
                        32, 8, 8),
                new Param.IntParam("load-ms", "load per case, ms", 300, 60_000, 2_000, 500));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_ONE_LOOP, PY_DEF_THREADS, JVM_ASYNC_ONE_THREAD, JVM_VIRTUAL_PER_REQUEST, JVM_POOL_BOUNDED);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int clients = ctx.intParam("clients");
        int ioMs = ctx.intParam("io-ms");
        int poolThreads = ctx.intParam("pool-threads");
        Duration load = Duration.ofMillis(ctx.intParam("load-ms"));
        long roundsPerMs = CpuWork.roundsFor(10) / 10;

        Map<Model, ApiCase> jvm = new EnumMap<>(Model.class);
        double done = 0;
        for (Model m : List.of(Model.ASYNC, Model.VIRTUAL, Model.POOL)) {
            ctx.progress(done += 0.15, "JVM: " + m.label);
            ctx.checkCancelled();
            jvm.put(m, ApiCase.run(m, poolThreads, roundsPerMs, load, List.of(new Path("/io?ms=" + ioMs, clients))));
        }
        ctx.progress(0.5, "CPython: FastAPI on uvicorn");
        PySide py = ApiHandlersPython.probe(ctx, "async-io,def-io", clients, ioMs, load.toMillis() / 1000.0);

        Table.Builder table = Table.builder(clients + " clients waiting " + ioMs + " ms each: who runs the"
                        + " requests (" + load.toMillis() + " ms of closed-loop load per server)", "server",
                "handler model", "requests in flight (peak)", "handlers at once (peak)", "threads that ran handlers",
                "threads that completed responses", "requests/s", "p50 ms");
        PyCase pyAsync = null;
        PyCase pyDef = null;
        if (py != null) {
            pyAsync = py.kase("async-io");
            pyDef = py.kase("def-io");
            table.row("uvicorn " + py.json().path("uvicorn").asText(), "async def + await asyncio.sleep",
                    pyAsync.async().peak(), pyAsync.async().peak(), pyAsync.async().threads(), "the same",
                    Math.round(pyAsync.first().throughput()), ApiHandlers.round(pyAsync.first().p50Ms()));
            table.row("uvicorn " + py.json().path("uvicorn").asText(), "def + time.sleep (anyio's thread pool)",
                    "—", pyDef.def().peak(), pyDef.def().threads(), "the same",
                    Math.round(pyDef.first().throughput()), ApiHandlers.round(pyDef.first().p50Ms()));
        }
        for (Model m : List.of(Model.ASYNC, Model.VIRTUAL, Model.POOL)) {
            ApiCase c = jvm.get(m);
            table.row("Javalin 7 / Jetty 12.1", m.label + (m == Model.VIRTUAL ? "" : ", " + poolThreads
                            + "-thread pool"), c.peakInFlight(), c.peakHandlers(), c.handlerThreads(),
                    m == Model.ASYNC ? c.completionThreads() : "the same", Math.round(c.first().throughput()),
                    ApiHandlers.round(c.first().p50Ms()));
        }
        ctx.table(table.build());

        if (py == null) {
            for (ClaimSpec claim : List.of(PY_ONE_LOOP, PY_DEF_THREADS)) {
                ctx.claim(claim, Verdict.skipped("no CPython 3 with fastapi, uvicorn and aiohttp (Debian's"
                        + " python3-fastapi, uvicorn, python3-aiohttp)"));
            }
        } else {
            ctx.claim(PY_ONE_LOOP, Verdict.check(pyAsync.async().threads() == 1 && py.loopOnMainThread()
                            && pyAsync.async().peak() == clients,
                    String.format("async def: %d handler(s) ran on %d thread(s) (the loop is on the main thread: %s);"
                                    + " at most %d of %d clients' requests in flight at once (needs 1 thread, the"
                                    + " main one, and all %d)", pyAsync.async().calls(), pyAsync.async().threads(),
                            py.loopOnMainThread(), pyAsync.async().peak(), clients, clients)));
            // anyio 3.6.2's CapacityLimiter wakes the next waiter without handing it the token: a task arriving
            // before the woken one runs finds a free token and an empty queue, so 41 can briefly hold tokens.
            ctx.claim(PY_DEF_THREADS, Verdict.check(py.totalTokens() == 40 && pyDef.def().peak() >= 40
                            && pyDef.def().peak() <= 41 && pyDef.def().threads() >= pyDef.def().peak(),
                    String.format("def: total_tokens = %d; %d clients: %d handlers ran at once at most (needs 40, or"
                                    + " 41 when a newcomer slips in before a woken waiter), on %d distinct worker"
                                    + " threads (idle workers rejoin the pool only when the loop reads their result,"
                                    + " so a few more may be started)", py.totalTokens(), clients,
                            pyDef.def().peak(), pyDef.def().threads())));
        }
        ApiCase async = jvm.get(Model.ASYNC);
        ctx.claim(JVM_ASYNC_ONE_THREAD, Verdict.check(async.completionThreads() == 1
                        && async.peakInFlight() == clients && async.peakHandlers() <= poolThreads,
                String.format("async handlers: %d thread(s) completed the responses; at most %d of %d clients'"
                                + " requests in flight at once; at most %d handlers ran at once on %d distinct pool"
                                + " threads (needs 1 thread, all %d in flight, ≤ %d handlers)",
                        async.completionThreads(), async.peakInFlight(), clients, async.peakHandlers(),
                        async.handlerThreads(), clients, poolThreads)));
        ApiCase virtual = jvm.get(Model.VIRTUAL);
        ctx.claim(JVM_VIRTUAL_PER_REQUEST, Verdict.check(virtual.peakHandlers() >= 0.9 * clients,
                String.format("virtual threads: at most %d handlers ran at once for %d clients (needs ≥ %.0f), on %d"
                                + " distinct threads in all", virtual.peakHandlers(), clients, 0.9 * clients,
                        virtual.handlerThreads())));
        ApiCase pool = jvm.get(Model.POOL);
        ctx.claim(JVM_POOL_BOUNDED, Verdict.check(pool.peakHandlers() <= poolThreads
                        && pool.handlerThreads() <= poolThreads && clients > poolThreads,
                String.format("fixed pool of %d threads, %d clients: at most %d handlers ran at once, on %d distinct"
                                + " threads (needs ≤ %d each); %.0f requests/s, p50 %.1f ms for a %d ms wait",
                        poolThreads, clients, pool.peakHandlers(), pool.handlerThreads(), poolThreads,
                        pool.first().throughput(), pool.first().p50Ms(), ioMs)));
        ctx.progress(1, "done");
    }
}
