package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Converting blocking I/O code to async: the same N requests to a server that answers D ms after each, written the
 * blocking way, converted, converted wrongly, and converted a step at a time. Every request opens its own loopback
 * connection to {@link DelayedServer}, sends a line and waits for the answer.
 *
 * <p>CPython, in the probe {@code blocking_to_async.py}:
 * <ol>
 *   <li><b>BASELINE — blocking, sequential.</b> {@code socket.create_connection}, {@code sendall}, {@code recv} in a
 *       loop: N×D.</li>
 *   <li><b>Converted.</b> {@code asyncio.open_connection}, {@code writer.write} + {@code await writer.drain()},
 *       {@code await reader.readline()}, all N under {@code asyncio.gather}: the waits overlap, about D.</li>
 *   <li><b>Broken — blocking calls left inside {@code async def}.</b> The same blocking {@code socket} code inside a
 *       coroutine, gathered. A coroutine only lets others run at an {@code await} that suspends; a blocking
 *       {@code recv} holds the loop's one thread for the whole wait, so the "async" version is N×D, as slow as the
 *       baseline.</li>
 *   <li><b>Incremental cure — {@code asyncio.to_thread}.</b> The blocking function unchanged, each call wrapped in
 *       {@code asyncio.to_thread} (3.9+), which runs it on the loop's default executor; with a pool of k threads the
 *       requests go k at a time: about ⌈N/k⌉×D, and the peak in flight is k.</li>
 *   <li><b>Capped — {@code asyncio.Semaphore(k)}.</b> The converted code with {@code async with sem} around each
 *       request: at most k in flight (counted), about ⌈N/k⌉×D.</li>
 * </ol>
 * JVM:
 * <ol>
 *   <li><b>BASELINE — blocking, sequential</b> on one thread: N×D.</li>
 *   <li><b>The same blocking code on virtual threads, unchanged</b> ({@code newVirtualThreadPerTaskExecutor}): a
 *       socket read that would block parks the virtual thread and frees its carrier, so N requests take about D
 *       with no rewrite. This is the JVM's answer to "convert to async": there is nothing to convert.</li>
 *   <li><b>A pool of k platform threads</b>: k requests in flight at most, ⌈N/k⌉×D.</li>
 *   <li><b>Virtual threads with a {@link Semaphore}(k)</b>, the JVM's cap on concurrency, like asyncio's.</li>
 * </ol>
 * Lower bounds (N×D, ⌈N/k⌉×D) come from one run: waiting can only make a run slower. Upper bounds (under 3×D,
 * under 2×⌈N/k⌉×D) are the best of several runs.
 *
 * <p>Run: {@code ./conclab run blocking-to-async -p requests=100 -p delay-ms=50}. Expect the sequential and the
 * broken version at N×D on both sides, the converted, to_thread and virtual-thread versions far below, and k in
 * flight for every capped version. With a very large N, opening N connections costs more than D and "under 3×D"
 * stops holding: the run is then busy connecting, not waiting.
 */
public final class BlockingToAsync implements Experiment {

    static final ClaimSpec JVM_VIRTUAL_UNCHANGED = new ClaimSpec("jvm-virtual-unchanged",
            "The same blocking socket code on virtual threads, unchanged, serves N requests that each wait D ms in"
                    + " under 3×D; on one thread in turn it takes at least N×D.");
    static final ClaimSpec JVM_POOL_CAPS = new ClaimSpec("jvm-pool-caps",
            "A pool of k platform threads, or virtual threads behind a Semaphore(k), has at most k requests in flight"
                    + " and needs at least ⌈N/k⌉×D.");
    static final ClaimSpec PY_GATHER = new ClaimSpec("py-gather",
            "Converted to asyncio.open_connection and gather, N requests take under 3×D; the blocking sequential"
                    + " version takes at least N×D.");
    static final ClaimSpec PY_BLOCKING_IN_ASYNC = new ClaimSpec("py-blocking-in-async",
            "Broken: blocking socket calls left inside async def make the gathered coroutines run one at a time,"
                    + " taking at least N×D, like the sequential code.");
    static final ClaimSpec PY_TO_THREAD = new ClaimSpec("py-to-thread",
            "Wrapping the unchanged blocking call in asyncio.to_thread with k worker threads runs k requests at"
                    + " once: under 2×⌈N/k⌉×D, with at most k in flight.");
    static final ClaimSpec PY_SEMAPHORE = new ClaimSpec("py-semaphore",
            "asyncio.Semaphore(k) caps the converted version at exactly k requests in flight.");

    /** nanoTime and the server's sleep are both exact, but a measured span may start a hair after the sleep did. */
    private static final double CLOCK_TOLERANCE_MS = 1.0;
    /** How long to wait for N requests beyond what they should take, before calling the run stuck. */
    private static final long GIVE_UP_MILLIS = 30_000;

    @Override
    public String id() {
        return "blocking-to-async";
    }

    @Override
    public String title() {
        return "Converting blocking I/O to async: asyncio streams, to_thread, a blocking call left in a coroutine,"
                + " and virtual threads";
    }

    @Override
    public String description() {
        return "Makes N requests to a loopback server that answers after D ms: blocking and sequential, converted to"
                + " asyncio streams with gather, Broken with blocking calls inside async def, with asyncio.to_thread"
                + " and with a Semaphore; on the JVM the same blocking code on virtual threads, a platform pool of"
                + " k threads and virtual threads behind a Semaphore(k).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("requests", "requests, each on its own connection (N)", 1, 2_000, 50, 20),
                new Param.IntParam("delay-ms", "how long the server waits before each answer (D)", 5, 1_000, 50, 40),
                new Param.IntParam("workers", "threads of the pool, and the Semaphore's permits (k)", 1, 256, 5, 4));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_VIRTUAL_UNCHANGED, JVM_POOL_CAPS, PY_GATHER, PY_BLOCKING_IN_ASYNC, PY_TO_THREAD,
                PY_SEMAPHORE);
    }

    /** Two sequential variants per side take N×D each: up to 2000 × 1 s at the parameters' bounds. */
    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(150);
    }

    /** One capped run: its wall time and the most requests that were in flight at once. */
    private record Capped(double millis, int peakInFlight) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("requests");
        int delay = ctx.intParam("delay-ms");
        int k = ctx.intParam("workers");
        int repeats = ctx.repeats();
        double nd = (double) n * delay;
        double rounds = Math.ceil((double) n / k) * delay;

        Table.Builder table = Table.builder("N = " + n + " requests, each answered after D = " + delay + " ms, k = " + k
                        + " (N×D = " + (long) nd + " ms, ⌈N/k⌉×D = " + (long) rounds + " ms)",
                "side", "variant", "wall ms", "runs", "÷ D", "÷ (N×D)", "peak in flight");
        try (DelayedServer server = DelayedServer.start(delay)) {
            int port = server.port();
            ctx.progress(0.02, "JVM: blocking, in turn");
            double sequential = once(() -> {
                for (int i = 0; i < n; i++) {
                    ctx.checkCancelled();
                    DelayedServer.request(port);
                }
            });
            ctx.progress(0.2, "JVM: the same blocking code on virtual threads");
            InFlight virtualInFlight = new InFlight();
            Timing virtual = Measure.bestOf(repeats, ctx, () -> {
                try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    fanOut(pool, n, port, null, virtualInFlight);
                }
            });
            ctx.progress(0.3, "JVM: a pool of " + k + " platform threads");
            Capped platform = capped(n, port, k, false);
            ctx.progress(0.4, "JVM: virtual threads behind a Semaphore(" + k + ")");
            Capped semaphore = capped(n, port, k, true);

            table.row("JVM", "BASELINE blocking, one thread, in turn", sequential, 1, sequential / delay,
                            sequential / nd, "1 (one at a time)")
                    .row("JVM", "same blocking code, virtual thread per request", virtual.bestMillis(), repeats,
                            virtual.bestMillis() / delay, virtual.bestMillis() / nd, virtualInFlight.peak())
                    .row("JVM", "platform pool of " + k, platform.millis(), 1, platform.millis() / delay,
                            platform.millis() / nd, platform.peakInFlight())
                    .row("JVM", "virtual threads + Semaphore(" + k + ")", semaphore.millis(), 1,
                            semaphore.millis() / delay, semaphore.millis() / nd, semaphore.peakInFlight());

            ctx.claim(JVM_VIRTUAL_UNCHANGED, Verdict.check(virtual.bestMillis() < 3.0 * delay
                    && sequential >= nd - CLOCK_TOLERANCE_MS, String.format(
                    "blocking code on a virtual thread per request: %.1f ms for %d requests, best of %d (needs < %d"
                            + " ms = 3×D), peak %d in flight; on one thread in turn: %.1f ms (needs ≥ %.0f ms = N×D);"
                            + " %.0f× apart", virtual.bestMillis(), n, repeats, 3 * delay, virtualInFlight.peak(),
                    sequential, nd, sequential / virtual.bestMillis())));
            boolean capsHold = platform.peakInFlight() <= k && semaphore.peakInFlight() <= k
                    && platform.millis() >= rounds - CLOCK_TOLERANCE_MS
                    && semaphore.millis() >= rounds - CLOCK_TOLERANCE_MS;
            ctx.claim(JVM_POOL_CAPS, Verdict.check(capsHold, String.format(
                    "platform pool of %d: peak %d in flight, %.1f ms; virtual threads + Semaphore(%d): peak %d in"
                            + " flight, %.1f ms (needs peaks ≤ %d and both ≥ %.0f ms = ⌈N/k⌉×D)",
                    k, platform.peakInFlight(), platform.millis(), k, semaphore.peakInFlight(), semaphore.millis(),
                    k, rounds)));

            ctx.progress(0.5, "CPython: blocking_to_async.py");
            python(ctx, port, n, delay, k, repeats, table);
            ctx.table(table.build());
            ctx.series(new Series("N requests, blocking vs converted", "JVM", "variant (1 sequential, 2 virtual"
                    + " threads, 3 pool of k, 4 Semaphore(k))", "ms", List.of(new Series.Point(1, sequential),
                    new Series.Point(2, virtual.bestMillis()), new Series.Point(3, platform.millis()),
                    new Series.Point(4, semaphore.millis()))));
        }
        ctx.progress(1, "done");
    }

    // ---- JVM --------------------------------------------------------------------------------------------------

    private interface Blocking {
        void run() throws Exception;
    }

    private static double once(Blocking work) throws Exception {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e6;
    }

    /** Counts requests in flight and keeps the peak. Thread-safe. */
    private static final class InFlight {
        private final AtomicInteger now = new AtomicInteger();
        private final AtomicInteger peak = new AtomicInteger();

        void enter() {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
        }

        void leave() {
            now.decrementAndGet();
        }

        int peak() {
            return peak.get();
        }
    }

    /** Submits N blocking requests to {@code pool} (each behind {@code permits} if given) and waits for all. */
    private static void fanOut(ExecutorService pool, int n, int port, Semaphore permits, InFlight inFlight)
            throws Exception {
        List<Future<?>> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            futures.add(pool.submit(() -> {
                if (permits != null) {
                    permits.acquire();
                }
                inFlight.enter();
                try {
                    DelayedServer.request(port); // the unchanged blocking code
                } finally {
                    inFlight.leave();
                    if (permits != null) {
                        permits.release();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS); // rethrows a request's failure
        }
    }

    private static Capped capped(int n, int port, int k, boolean virtual) throws Exception {
        InFlight inFlight = new InFlight();
        double millis;
        if (virtual) {
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                millis = once(() -> fanOut(pool, n, port, new Semaphore(k), inFlight));
            }
        } else {
            try (ExecutorService pool = Executors.newFixedThreadPool(k,
                    Thread.ofPlatform().name("blocking-pool-", 0).factory())) {
                millis = once(() -> fanOut(pool, n, port, null, inFlight));
            }
        }
        return new Capped(millis, inFlight.peak());
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int port, int n, int delay, int k, int repeats, Table.Builder table)
            throws Exception {
        double nd = (double) n * delay;
        double rounds = Math.ceil((double) n / k) * delay;
        // Two sequential runs of N×D, then per repeat one of D and two of ⌈N/k⌉×D.
        long budget = 30_000 + (long) (2 * nd + repeats * (delay + 2 * rounds));
        ProbeOutcome outcome = PythonProbes.of(ctx).run("blocking_to_async.py", List.of(), Duration.ofMillis(budget),
                "--port", Integer.toString(port),
                "--requests", Integer.toString(n),
                "--delay-ms", Integer.toString(delay),
                "--workers", Integer.toString(k),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_GATHER, PY_BLOCKING_IN_ASYNC, PY_TO_THREAD, PY_SEMAPHORE);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                double sequential = millis(json, "sequential");
                double gather = millis(json, "gather");
                double blockingInAsync = millis(json, "blocking_in_async");
                double toThread = millis(json, "to_thread");
                double semaphore = millis(json, "semaphore");
                int threadPeak = json.path("to_thread").path("peak_in_flight").asInt(-1);
                int gatherPeak = json.path("gather").path("peak_in_flight").asInt(-1);
                int brokenPeak = json.path("blocking_in_async").path("peak_in_flight").asInt(-1);
                int semPeak = json.path("semaphore").path("peak_in_flight").asInt(-1);
                table.row(py, "BASELINE blocking socket code, in turn", sequential, 1, sequential / delay,
                                sequential / nd, "1 (one at a time)")
                        .row(py, "open_connection + gather", gather, repeats, gather / delay, gather / nd,
                                gatherPeak)
                        .row(py, "Broken: blocking calls inside async def, gathered", blockingInAsync, 1,
                                blockingInAsync / delay, blockingInAsync / nd, brokenPeak)
                        .row(py, "asyncio.to_thread, executor of " + k, toThread, repeats, toThread / delay,
                                toThread / nd, threadPeak)
                        .row(py, "open_connection + Semaphore(" + k + ")", semaphore, repeats, semaphore / delay,
                                semaphore / nd, semPeak);
                ctx.note(py + ": asyncio.to_thread without set_default_executor gets min(32, cpu_count + 4) = "
                        + json.path("default_executor_workers").asInt() + " threads here");
                ctx.claim(PY_GATHER, Verdict.check(gather < 3.0 * delay && sequential >= nd - CLOCK_TOLERANCE_MS,
                        String.format("open_connection + gather: %.1f ms for %d requests, best of %d (needs < %d ms ="
                                        + " 3×D); blocking in turn: %.1f ms (needs ≥ %.0f ms = N×D); %s",
                                gather, n, repeats, 3 * delay, sequential, nd, py)));
                ctx.claim(PY_BLOCKING_IN_ASYNC, Verdict.check(blockingInAsync >= nd - CLOCK_TOLERANCE_MS
                        && brokenPeak == 1, String.format("blocking socket calls in %d gathered coroutines: %.1f ms"
                                        + " (needs ≥ %.0f ms = N×D), peak %d in flight (needs 1); %.1f× the converted"
                                        + " version's %.1f ms, which had %d in flight", n, blockingInAsync, nd,
                                brokenPeak, blockingInAsync / gather, gather, gatherPeak)));
                ctx.claim(PY_TO_THREAD, Verdict.check(toThread < 2.0 * rounds && threadPeak >= 1 && threadPeak <= k,
                        String.format("asyncio.to_thread on an executor of %d threads: %.1f ms, best of %d (needs <"
                                        + " %.0f ms = 2×⌈N/k⌉×D), peak %d in flight (needs 1..%d); N×D would be"
                                        + " %.0f ms", k, toThread, repeats, 2 * rounds, threadPeak, k, nd)));
                ctx.claim(PY_SEMAPHORE, Verdict.check(semPeak == Math.min(k, n), String.format(
                        "asyncio.Semaphore(%d) around %d requests: peak %d in flight (needs exactly %d), %.1f ms"
                                + " (⌈N/k⌉×D = %.0f ms)", k, n, semPeak, Math.min(k, n), semaphore, rounds)));
            }
        }
    }

    private static double millis(JsonNode json, String variant) {
        JsonNode value = json.path(variant).path("elapsed_s");
        if (!value.isNumber()) {
            throw new ProbeException("probe blocking_to_async.py printed no number at " + variant + ".elapsed_s: "
                    + json);
        }
        return value.asDouble() * 1e3;
    }
}
