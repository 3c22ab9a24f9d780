package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * 100 HTTP requests at once: they finish in about the time of the slowest one, a cap makes them go in waves, a
 * per-request timeout cuts only the slow ones, and a failure can cancel the rest — on the wire, not just in the
 * caller's bookkeeping. Every request is a real HTTP/1.1 exchange with the loopback {@link DelayedServer}, which
 * answers each after the delay its URL asks for and counts the connections a client closed before the answer.
 *
 * <ol>
 *   <li><b>BASELINE — the slowest single request, alone.</b> Requests ask for delays spread from D to 1.9×D; the
 *       one of 1.9×D is timed by itself.</li>
 *   <li><b>All N at once.</b> {@code HttpClient.sendAsync} for every request, then {@code CompletableFuture.allOf};
 *       and the blocking {@code HttpClient.send} on a virtual thread per request. Either way the waits overlap and
 *       N requests take about the slowest one.</li>
 *   <li><b>A cap of c.</b> Virtual threads behind a {@link Semaphore}(c), and the async form with c "lanes" (each
 *       completion starts the next request). N requests of D go in ⌈N/c⌉ waves; the server counts the most it was
 *       ever serving at once, which must be c.</li>
 *   <li><b>A per-request timeout</b> of 3×D + 200 ms. {@code HttpRequest.Builder.timeout}: a few requests ask for
 *       three times the timeout and fail with {@code HttpTimeoutException}; the others succeed; the whole batch takes about the
 *       timeout; the server sees the timed-out connections closed.</li>
 *   <li><b>Cancel the rest on the first failure.</b> One request answers 500 quickly, the others would take long.
 *       <i>Broken</i>: {@code allOf} with no cancellation learns of the failure early but still waits for every other
 *       request, and the server does all that work. Correct: {@link StructuredTaskScope} (preview in JDK 25): the
 *       failing subtask makes {@code join()} throw, the scope interrupts the others, and an interrupted
 *       {@code HttpClient.send} cancels its exchange; and the same with {@code CompletableFuture.cancel(true)} on the
 *       futures {@code sendAsync} returned. The server counts the closed connections.</li>
 * </ol>
 * The CPython side ({@code hundred_requests.py}) does the same with aiohttp: {@code asyncio.gather},
 * {@code TCPConnector(limit=c)} and an {@code asyncio.Semaphore(c)}, {@code aiohttp.ClientTimeout}, and an
 * {@code asyncio.TaskGroup} (3.11) that cancels its other tasks when one fails; it reads the server's counters
 * from {@code GET /stats}.
 *
 * <p>Run: {@code ./conclab run hundred-requests -p requests=100 -p delay-ms=200 -p cap=10}. Expect the batch within
 * 1.5× the slowest single request plus a few tens of ms, ⌈N/c⌉×D with a cap, the timed-out requests closed on the
 * server, and the cancelled batch done in about the failing request's time while the Broken one waits for all.
 */
public final class HundredRequests implements Experiment {

    static final ClaimSpec ALL_AT_ONCE = new ClaimSpec("all-at-once",
            "N requests sent at once, with sendAsync or a virtual thread each, finish within 1.5× the slowest single"
                    + " request plus 100 ms.");
    static final ClaimSpec CAP_WAVES = new ClaimSpec("cap-waves",
            "With a cap of c, the server never serves more than c requests at once and N requests of D ms take"
                    + " between ⌈N/c⌉×D and 1.5×⌈N/c⌉×D plus 100 ms.");
    static final ClaimSpec TIMEOUT_CUTS_SLOW = new ClaimSpec("timeout-cuts-slow",
            "A per-request timeout fails exactly the slow requests, the others succeed, the batch takes about the"
                    + " timeout, and the server sees every timed-out connection closed.");
    static final ClaimSpec CANCEL_ON_FAILURE = new ClaimSpec("cancel-on-failure",
            "On the first failure, StructuredTaskScope (or cancel(true) on the sendAsync futures) stops the other"
                    + " requests: the batch ends within the failing request's time plus 150 ms and every other request"
                    + " that reached the server has its connection closed unanswered; Broken: allOf without cancelling waits for them"
                    + " all.");
    static final ClaimSpec PY_GATHER = new ClaimSpec("py-gather",
            "CPython with aiohttp and asyncio.gather finishes N requests within 1.5× the slowest single request plus"
                    + " 150 ms.");
    static final ClaimSpec PY_LIMITS = new ClaimSpec("py-limits",
            "aiohttp's TCPConnector(limit=c) and an asyncio.Semaphore(c) each keep at most c requests at the server"
                    + " at once.");
    static final ClaimSpec PY_TIMEOUT_CANCEL = new ClaimSpec("py-timeout-cancel",
            "aiohttp.ClientTimeout fails exactly the slow requests, and an asyncio.TaskGroup cancels the others on"
                    + " the first failure, their connections closed at the server.");

    /** The allowance above 1.5× the ideal: connection set-up, thread start and the client's own bookkeeping. */
    static final double SLACK_MS = 100;
    /** How much later than the failing request the cancelled batch may end: one request's round trip and the
     *  cancellation of the others. */
    static final double CANCEL_SLACK_MS = 150;
    /** CPython's allowance: cancelling N tasks and closing their connections on one thread takes tens of ms. */
    static final double PY_SLACK_MS = 300;
    private static final long GIVE_UP_MILLIS = 30_000;

    @Override
    public String id() {
        return "hundred-requests";
    }

    @Override
    public String title() {
        return "100 HTTP requests at once: about the slowest one, a cap in waves, per-request timeouts, cancel on"
                + " failure — java.net.http and aiohttp";
    }

    @Override
    public String description() {
        return "Sends N HTTP requests to a loopback server with set delays: all at once (sendAsync, virtual threads),"
                + " capped at c (Semaphore, async lanes), with a per-request timeout, and cancelling the rest on the"
                + " first failure (StructuredTaskScope, cancel(true); Broken: allOf without cancelling); CPython does"
                + " the same with aiohttp.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("requests", "requests in the batch (N)", 2, 1_000, 100, 100),
                new Param.IntParam("delay-ms", "the base delay of a request (D)", 20, 2_000, 200, 50),
                new Param.IntParam("cap", "the most requests in flight when capped (c)", 1, 1_000, 10, 25),
                new Param.IntParam("slow", "requests that ask for 3× the timeout of 3×D + 200 ms", 1, 100, 5, 5));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(ALL_AT_ONCE, CAP_WAVES, TIMEOUT_CUTS_SLOW, CANCEL_ON_FAILURE, PY_GATHER, PY_LIMITS,
                PY_TIMEOUT_CANCEL);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(90) : Duration.ofMinutes(30);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("requests");
        int d = ctx.intParam("delay-ms");
        int c = ctx.intParam("cap");
        int slow = ctx.intParam("slow");
        if (slow >= n) {
            throw new dev.conclab.lab.engine.BadParameterException("slow (" + slow + ") must be below requests ("
                    + n + ")");
        }
        int repeats = ctx.repeats();
        Table.Builder table = Table.builder("N = " + n + " HTTP requests, D = " + d + " ms, cap c = " + c,
                "side", "variant", "wall ms", "runs", "expected", "ok / failed", "server: peak · closed early");
        try (DelayedServer server = DelayedServer.start(d);
             ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .connectTimeout(Duration.ofSeconds(5)).build()) {
            Http http = new Http(client, server);
            ctx.progress(0.02, "all at once");
            allAtOnce(ctx, http, virtual, n, d, repeats, table);
            ctx.progress(0.2, "capped at " + c);
            capped(ctx, http, virtual, n, d, c, repeats, table);
            ctx.progress(0.4, "per-request timeout");
            timeouts(ctx, http, virtual, n, d, slow, table);
            ctx.progress(0.5, "cancel on the first failure");
            cancelOnFailure(ctx, http, virtual, n, d, table);
            ctx.progress(0.7, "CPython: hundred_requests.py");
            python(ctx, server, n, d, c, slow, repeats, table);
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /** The client and the server of one run; the request helpers every variant shares. */
    private record Http(HttpClient client, DelayedServer server) {

        HttpRequest request(int delayMillis, int status, Duration timeout) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(delayMillis, status)));
            return (timeout == null ? b : b.timeout(timeout)).build();
        }

        /** Blocking: sends and returns the status; a 5xx is thrown as a failure. */
        int send(HttpRequest request) throws IOException, InterruptedException {
            int status = client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
            if (status >= 500) {
                throw new IOException("HTTP " + status);
            }
            return status;
        }

        CompletableFuture<Integer> sendAsync(HttpRequest request) {
            return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
                if (r.statusCode() >= 500) {
                    throw new IllegalStateException("HTTP " + r.statusCode());
                }
                return r.statusCode();
            });
        }
    }

    /** Request i's delay: spread evenly from D to 1.9×D, so one of them is the slowest. */
    private static int spread(int i, int d) {
        return d + (i % 10) * d / 10;
    }

    // ---- 1, 2. all at once ---------------------------------------------------------------------------------------

    private static void allAtOnce(RunContext ctx, Http http, ExecutorService virtual, int n, int d, int repeats,
                                  Table.Builder table) throws Exception {
        int slowest = spread(9, d);
        double alone = Measure.bestOf(repeats, ctx, () -> http.send(http.request(slowest, 200, null)))
                .bestMillis();
        double async = Measure.bestOf(repeats, ctx, () -> {
            List<CompletableFuture<Integer>> all = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                all.add(http.sendAsync(http.request(spread(i, d), 200, null)));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        }).bestMillis();
        double threads = Measure.bestOf(repeats, ctx, () -> blockingFanOut(virtual, n,
                i -> () -> http.send(http.request(spread(i, d), 200, null)))).bestMillis();
        double bound = 1.5 * alone + SLACK_MS;
        table.row("JVM", "BASELINE the slowest single request (" + slowest + " ms), alone", alone, repeats,
                        slowest + " ms", "1 / 0", "")
                .row("JVM", "sendAsync × " + n + " + allOf", async, repeats, "≤ " + fmt(bound), n + " / 0", "")
                .row("JVM", "HttpClient.send on a virtual thread each", threads, repeats, "≤ " + fmt(bound),
                        n + " / 0", "");
        ctx.claim(ALL_AT_ONCE, Verdict.check(async <= bound && threads <= bound, String.format(
                "%d requests of %d..%d ms: sendAsync + allOf %.1f ms, virtual threads %.1f ms (best of %d; needs ≤"
                        + " %.1f ms = 1.5 × %.1f ms, the slowest alone, + %.0f ms); sequential would be ≈ %d ms",
                n, d, slowest, async, threads, repeats, bound, alone, SLACK_MS, n * (d + slowest) / 2)));
    }

    private interface Call {
        Object call() throws Exception;
    }

    /** One blocking call per index on its own virtual thread; waits for all and rethrows the first failure. */
    private static void blockingFanOut(ExecutorService virtual, int n, IntFunction<Call> calls) throws Exception {
        List<Future<Object>> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Call call = calls.apply(i);
            futures.add(virtual.submit(call::call));
        }
        for (Future<Object> f : futures) {
            f.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    // ---- 3. a cap ------------------------------------------------------------------------------------------------

    private static void capped(RunContext ctx, Http http, ExecutorService virtual, int n, int d, int c, int repeats,
                               Table.Builder table) throws Exception {
        double waves = Math.ceil((double) n / c) * d;
        double bound = 1.5 * waves + SLACK_MS;
        http.server().resetPeak();
        double semaphore = Measure.bestOf(repeats, ctx, () -> {
            Semaphore permits = new Semaphore(c);
            blockingFanOut(virtual, n, i -> () -> {
                permits.acquire();
                try {
                    return http.send(http.request(d, 200, null));
                } finally {
                    permits.release();
                }
            });
        }).bestMillis();
        int semaphorePeak = http.server().peakInService();
        http.server().resetPeak();
        double lanes = Measure.bestOf(repeats, ctx, () -> lanes(http, n, c, d).get(GIVE_UP_MILLIS,
                TimeUnit.MILLISECONDS)).bestMillis();
        int lanesPeak = http.server().peakInService();
        String expected = fmt(waves) + " .. " + fmt(bound);
        table.row("JVM", "virtual threads + Semaphore(" + c + ")", semaphore, repeats, expected, n + " / 0",
                        "peak " + semaphorePeak)
                .row("JVM", c + " async lanes (a completion starts the next)", lanes, repeats, expected, n + " / 0",
                        "peak " + lanesPeak);
        int expectedPeak = Math.min(c, n);
        boolean holds = semaphorePeak == expectedPeak && lanesPeak == expectedPeak
                && semaphore >= waves - 1 && lanes >= waves - 1 && semaphore <= bound && lanes <= bound;
        ctx.claim(CAP_WAVES, Verdict.check(holds, String.format(
                "cap %d: Semaphore %.1f ms with peak %d at the server, async lanes %.1f ms with peak %d (needs peak"
                        + " %d and %.0f ≤ wall ≤ %.1f ms: ⌈%d/%d⌉ = %.0f waves of %d ms)", c, semaphore, semaphorePeak,
                lanes, lanesPeak, expectedPeak, waves, bound, n, c, Math.ceil((double) n / c), d)));
    }

    /** c chains of sendAsync: each completion starts the next request, so at most c are in flight. */
    private static CompletableFuture<Void> lanes(Http http, int n, int c, int d) {
        AtomicInteger next = new AtomicInteger();
        List<CompletableFuture<Void>> chains = new ArrayList<>(c);
        for (int lane = 0; lane < Math.min(c, n); lane++) {
            chains.add(lane(http, next, n, d));
        }
        return CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new));
    }

    private static CompletableFuture<Void> lane(Http http, AtomicInteger next, int n, int d) {
        if (next.getAndIncrement() >= n) {
            return CompletableFuture.completedFuture(null);
        }
        return http.sendAsync(http.request(d, 200, null)).thenCompose(status -> lane(http, next, n, d));
    }

    // ---- 4. timeouts ---------------------------------------------------------------------------------------------

    private static void timeouts(RunContext ctx, Http http, ExecutorService virtual, int n, int d, int slow,
                                 Table.Builder table) throws Exception {
        Duration timeout = Duration.ofMillis(timeoutMs(d));
        long closedBefore = http.server().abandoned();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        long start = System.nanoTime();
        blockingFanOut(virtual, n, i -> () -> {
            try {
                http.send(http.request(i < slow ? 3 * (int) timeout.toMillis() : d, 200, timeout));
                ok.incrementAndGet();
            } catch (HttpTimeoutException e) {
                timedOut.incrementAndGet();
            } catch (IOException e) {
                other.incrementAndGet();
            }
            return null;
        });
        double wall = (System.nanoTime() - start) / 1e6;
        long closed = awaitClosed(http.server(), closedBefore, slow);
        double bound = 1.5 * timeout.toMillis() + SLACK_MS;
        table.row("JVM", "timeout " + timeout.toMillis() + " ms per request, " + slow + " ask for "
                        + 3 * timeout.toMillis() + " ms",
                wall, 1, timeout.toMillis() + " .. " + fmt(bound), ok.get() + " / " + (timedOut.get() + other.get()),
                "closed " + closed);
        boolean holds = ok.get() == n - slow && timedOut.get() == slow && other.get() == 0 && closed == slow
                && wall >= timeout.toMillis() - 1 && wall <= bound;
        ctx.claim(TIMEOUT_CUTS_SLOW, Verdict.check(holds, String.format(
                "timeout %d ms: %d succeeded (needs %d), %d HttpTimeoutException (needs %d), %d other failures (needs"
                        + " 0); batch %.1f ms (needs %d..%.1f ms); the server saw %d connections closed before"
                        + " answering (needs %d)", timeout.toMillis(), ok.get(), n - slow, timedOut.get(), slow,
                other.get(), wall, timeout.toMillis(), bound, closed, slow)));
    }

    /** The per-request timeout: 3×D, plus room for a loaded machine to schedule 100 answers. */
    static int timeoutMs(int d) {
        return 3 * d + 200;
    }

    /** The server sees a closed connection a moment after the client closed it: poll its counter, up to 2 s. */
    private static long awaitClosed(DelayedServer server, long before, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (server.abandoned() - before < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return server.abandoned() - before;
    }

    // ---- 5. cancel on failure ------------------------------------------------------------------------------------

    /** One batch that failed: when the caller learnt it, when the batch was over, and the server's view. */
    private record Failed(double failedAtMs, double overMs, long reached, long closed, long answered) {

        /** Every request that reached the server and was not answered had its connection closed. */
        boolean allUnansweredClosed() {
            return closed == reached - answered;
        }
    }

    private static void cancelOnFailure(RunContext ctx, Http http, ExecutorService virtual, int n, int d,
                                        Table.Builder table) throws Exception {
        int failAfter = d;
        int longDelay = 10 * d;
        IntFunction<HttpRequest> request = i -> i == 0 ? http.request(failAfter, 500, null)
                : http.request(longDelay, 200, null);

        Failed broken = allOfNoCancel(http, n, request); // one run: it can only be slower than the long delay
        Failed scope = null;
        Failed cancel = null;
        for (int r = 0; r < ctx.repeats(); r++) { // cheap runs: the fastest of each, the worst server view of any
            ctx.checkCancelled();
            scope = worse(scope, structured(http, n, request));
            cancel = worse(cancel, cancelFutures(http, n, request));
        }
        double bound = failAfter + CANCEL_SLACK_MS;
        String expected = "≤ " + fmt(bound);
        table.row("JVM", "Broken: allOf, no cancel (first failure known at " + fmt(broken.failedAtMs()) + ")",
                        broken.overMs(), 1, "≈ " + longDelay + " (all run)", "0 / " + n,
                        view(broken))
                .row("JVM", "StructuredTaskScope.open(): first failure cancels the rest", scope.overMs(),
                        ctx.repeats(), expected, "0 / " + n, view(scope))
                .row("JVM", "sendAsync + cancel(true) on the first failure", cancel.overMs(), ctx.repeats(), expected,
                        "0 / " + n, view(cancel));
        int others = n - 1;
        boolean holds = scope.overMs() <= bound && cancel.overMs() <= bound
                && scope.allUnansweredClosed() && cancel.allUnansweredClosed()
                && scope.answered() <= 1 && cancel.answered() <= 1
                && broken.overMs() >= longDelay - 1 && broken.answered() == n;
        ctx.claim(CANCEL_ON_FAILURE, Verdict.check(holds, String.format(
                "request 0 answers 500 after %d ms, the other %d would take %d ms: StructuredTaskScope ended at %.1f"
                        + " ms (%s), cancel(true) at %.1f ms (%s) (needs ≤ %.0f ms, ≤ 1 answered, every request that"
                        + " reached the server and was not answered closed; the rest were never sent); Broken allOf"
                        + " learnt of the failure at %.1f ms but ended at %.1f ms with %d answered (needs ≥ %d ms, all"
                        + " %d answered)", failAfter, others, longDelay, scope.overMs(), view(scope), cancel.overMs(),
                view(cancel), bound, broken.failedAtMs(), broken.overMs(), broken.answered(), longDelay, n)));
    }

    private static String view(Failed f) {
        return "reached " + f.reached() + " · closed " + f.closed() + " · answered " + f.answered();
    }

    /** Keeps the fastest end, but the fewest connections closed and the most answered of any run. */
    private static Failed worse(Failed a, Failed b) {
        if (a == null) {
            return b;
        }
        boolean aWorse = !a.allUnansweredClosed() || a.answered() > b.answered();
        Failed view = aWorse ? a : b;
        return new Failed(Math.min(a.failedAtMs(), b.failedAtMs()), Math.min(a.overMs(), b.overMs()),
                view.reached(), view.closed(), view.answered());
    }

    /**
     * The server's view of one batch once every request that reached it has ended (answered or closed), waiting up to
     * 2 s for it to notice the closed connections. A request cancelled before it was sent never reaches it at all.
     */
    private static Failed settled(DelayedServer server, double failedAt, double over, long reached0, long closed0,
                                  long answered0) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (server.received() > server.answered() + server.abandoned() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return new Failed(failedAt, over, server.received() - reached0, server.abandoned() - closed0,
                server.answered() - answered0);
    }

    private static Failed allOfNoCancel(Http http, int n, IntFunction<HttpRequest> request) throws Exception {
        long reached = http.server().received();
        long closed = http.server().abandoned();
        long answered = http.server().answered();
        CompletableFuture<Void> firstFailure = new CompletableFuture<>();
        long start = System.nanoTime();
        List<CompletableFuture<Integer>> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(http.sendAsync(request.apply(i)).whenComplete((s, e) -> {
                if (e != null) {
                    firstFailure.complete(null);
                }
            }));
        }
        firstFailure.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        double failedAt = (System.nanoTime() - start) / 1e6;
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException expected) {
            // allOf fails with the first failure, but only once every future is done
        }
        double over = (System.nanoTime() - start) / 1e6;
        return settled(http.server(), failedAt, over, reached, closed, answered);
    }

    private static Failed structured(Http http, int n, IntFunction<HttpRequest> request) throws Exception {
        long reached = http.server().received();
        long closed = http.server().abandoned();
        long answered = http.server().answered();
        long start = System.nanoTime();
        double failedAt = Double.NaN;
        try (var scope = StructuredTaskScope.open()) { // all must succeed: a failure cancels the others
            for (int i = 0; i < n; i++) {
                HttpRequest r = request.apply(i);
                scope.fork(() -> http.send(r));
            }
            scope.join();
        } catch (StructuredTaskScope.FailedException e) {
            failedAt = (System.nanoTime() - start) / 1e6; // close() has waited for the interrupted subtasks
        }
        double over = (System.nanoTime() - start) / 1e6;
        return settled(http.server(), Double.isNaN(failedAt) ? over : failedAt, over, reached, closed, answered);
    }

    private static Failed cancelFutures(Http http, int n, IntFunction<HttpRequest> request) throws Exception {
        long reached = http.server().received();
        long closed = http.server().abandoned();
        long answered = http.server().answered();
        CompletableFuture<Void> firstFailure = new CompletableFuture<>();
        long start = System.nanoTime();
        List<CompletableFuture<Integer>> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            CompletableFuture<Integer> f = http.sendAsync(request.apply(i));
            f.whenComplete((s, e) -> {
                if (e != null) {
                    firstFailure.complete(null);
                }
            });
            all.add(f);
        }
        firstFailure.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        double failedAt = (System.nanoTime() - start) / 1e6;
        for (CompletableFuture<Integer> f : all) {
            f.cancel(true);
        }
        double over = (System.nanoTime() - start) / 1e6;
        return settled(http.server(), failedAt, over, reached, closed, answered);
    }

    // ---- CPython -------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, DelayedServer server, int n, int d, int c, int slow, int repeats,
                               Table.Builder table) throws Exception {
        long budget = 30_000 + (long) repeats * (2L * d + (long) Math.ceil((double) n / c) * d * 2) + 20L * d;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("hundred_requests.py", List.of("aiohttp"),
                Duration.ofMillis(budget), "--port", Integer.toString(server.port()), "--requests",
                Integer.toString(n), "--delay-ms", Integer.toString(d), "--cap", Integer.toString(c), "--slow",
                Integer.toString(slow), "--timeout-ms", Integer.toString(timeoutMs(d)), "--repeat",
                Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_GATHER, PY_LIMITS, PY_TIMEOUT_CANCEL);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode j = ran.json();
                String py = "CPython " + ran.interpreter().version() + " · aiohttp " + j.path("aiohttp").asText();
                double alone = ms(j, "alone");
                double gather = ms(j, "gather");
                double bound = 1.5 * alone + CANCEL_SLACK_MS;
                double waves = Math.ceil((double) n / c) * d;
                int connectorPeak = j.path("connector_limit").path("server_peak").asInt(-1);
                int semaphorePeak = j.path("semaphore").path("server_peak").asInt(-1);
                JsonNode t = j.path("timeout");
                JsonNode g = j.path("task_group");
                table.row(py, "BASELINE the slowest single request, alone", alone, repeats, spread(9, d) + " ms",
                                "1 / 0", "")
                        .row(py, "asyncio.gather × " + n + " (TCPConnector default limit "
                                + j.path("default_limit").asInt() + ")", gather, repeats, "≤ " + fmt(bound),
                                n + " / 0", "peak " + j.path("gather").path("server_peak").asInt())
                        .row(py, "TCPConnector(limit=" + c + ")", ms(j, "connector_limit"), repeats,
                                "≥ " + fmt(waves), n + " / 0", "peak " + connectorPeak)
                        .row(py, "asyncio.Semaphore(" + c + ")", ms(j, "semaphore"), repeats, "≥ " + fmt(waves),
                                n + " / 0", "peak " + semaphorePeak)
                        .row(py, "ClientTimeout(total=" + timeoutMs(d) + " ms), " + slow + " slow", ms(j, "timeout"), 1,
                                "≈ " + timeoutMs(d), t.path("ok").asInt() + " / " + t.path("timed_out").asInt(),
                                "closed " + t.path("server_closed").asInt())
                        .row(py, "asyncio.TaskGroup, request 0 fails", ms(j, "task_group"), 1,
                                "≤ " + fmt(d + PY_SLACK_MS), "0 / " + n,
                                "reached " + g.path("server_reached").asInt() + " · closed "
                                        + g.path("server_closed").asInt() + " · answered "
                                        + g.path("server_answered").asInt());
                ctx.note(py + ": TCPConnector defaults here are limit=" + j.path("default_limit").asInt()
                        + ", limit_per_host=" + j.path("default_limit_per_host").asInt());
                ctx.claim(PY_GATHER, Verdict.check(gather <= bound, String.format(
                        "aiohttp + gather: %d requests in %.1f ms, best of %d (needs ≤ %.1f ms = 1.5 × %.1f ms, the"
                                + " slowest alone, + %.0f ms)", n, gather, repeats, bound, alone, CANCEL_SLACK_MS)));
                int expectedPeak = Math.min(c, n);
                ctx.claim(PY_LIMITS, Verdict.check(connectorPeak == expectedPeak && semaphorePeak == expectedPeak
                        && ms(j, "connector_limit") >= waves - 1 && ms(j, "semaphore") >= waves - 1,
                        String.format("server peak with TCPConnector(limit=%d): %d, with Semaphore(%d): %d (needs %d);"
                                        + " %.1f and %.1f ms (needs ≥ %.0f ms)", c, connectorPeak, c, semaphorePeak,
                                expectedPeak, ms(j, "connector_limit"), ms(j, "semaphore"), waves)));
                double groupBound = d + PY_SLACK_MS;
                boolean holds = t.path("ok").asInt() == n - slow && t.path("timed_out").asInt() == slow
                        && t.path("server_closed").asInt() == slow && ms(j, "task_group") <= groupBound
                        && g.path("server_closed").asInt() == g.path("server_reached").asInt()
                        - g.path("server_answered").asInt() && g.path("server_answered").asInt() <= 1;
                ctx.claim(PY_TIMEOUT_CANCEL, Verdict.check(holds, String.format(
                        "ClientTimeout: %d ok (needs %d), %d timed out (needs %d), %d closed at the server (needs"
                                + " %d); TaskGroup ended at %.1f ms (needs ≤ %.0f) with %d closed and %d answered"
                                + " of %d that reached the server (needs closed = reached − answered, ≤ 1 answered)", t.path("ok").asInt(), n - slow, t.path("timed_out").asInt(),
                        slow, t.path("server_closed").asInt(), slow, ms(j, "task_group"), groupBound,
                        g.path("server_closed").asInt(), g.path("server_answered").asInt(),
                        g.path("server_reached").asInt())));
            }
        }
    }

    private static double ms(JsonNode json, String variant) {
        JsonNode value = json.path(variant).path("elapsed_s");
        if (!value.isNumber()) {
            throw new dev.conclab.lab.probe.ProbeException("probe hundred_requests.py printed no number at "
                    + variant + ".elapsed_s: " + json);
        }
        return value.asDouble() * 1e3;
    }

    private static String fmt(double ms) {
        return String.format("%.0f", ms);
    }
}
