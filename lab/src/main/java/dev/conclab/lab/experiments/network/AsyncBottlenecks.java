package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Bottlenecks in async systems: the downstream limit that an async front end hides until the queue in front of it
 * explodes, the single resource that serializes concurrent work, and the fix (bounded concurrency, backpressure).
 *
 * <p>The downstream is an async pool of {@code k} slots ({@link AsyncSlots}: think a database connection pool or an
 * HTTP connector limit), each use taking {@code service-ms}: its capacity is {@code k ÷ service} requests per second.
 * Requests arrive open-loop, at a fixed rate of {@code overload}% of that capacity, for {@code duration-ms}.
 * <ol>
 *   <li><b>Broken — unbounded fan-out.</b> Every arrival is admitted and queues for a slot (a
 *       {@code CompletableFuture} per request, nothing blocks). Throughput is the downstream's capacity and no more;
 *       the rest piles up, so each request waits about (queue ahead ÷ k) × service and latency grows through the run.
 *       Little's law ties the three measured numbers together: the time-average queue length L equals the arrival
 *       rate λ times the mean wait W.</li>
 *   <li><b>Bounded concurrency, shedding.</b> A {@code Semaphore(k + queue)} in front: {@code tryAcquire} admits a
 *       request only when fewer than {@code k + queue} are in the system, and rejects the rest at once (a 503 / 429
 *       in a server). Latency stays flat at about (queue ÷ k + 1) × service; throughput is still the capacity.</li>
 *   <li><b>Backpressure.</b> The same semaphore, but {@code acquire} makes the producer wait: arrivals slow down to
 *       the capacity, nothing is rejected, and latency inside the system stays flat.</li>
 *   <li><b>Broken — one shared resource.</b> {@code n} concurrent async tasks that each need the resource for
 *       {@code service-ms}: with one slot (a lock held across an await, SQLite's single writer) they take n ×
 *       service whatever the concurrency; with n slots, about one service time.</li>
 * </ol>
 * A blocking call on the loop thread is the first bottleneck of all; it is measured by {@code cpu-starvation} and
 * {@code blocking-to-async} and not repeated here. CPython ({@code async_bottlenecks.py}) runs the same four cases on
 * asyncio: an {@code asyncio.Semaphore(k)} around {@code await asyncio.sleep(service)} as the downstream, tasks
 * created at the arrival rate, and an {@code asyncio.Lock} held across an await.
 *
 * <p>Run: {@code ./conclab run async-bottlenecks -p overload=200 -p duration-ms=2000}. Expect the unbounded p99 to
 * grow with the duration (about duration × (1 − 1/overload)), the bounded p99 to stay near (queue/k + 1) × service,
 * throughput near k ÷ service in all three, and the one-slot resource to take n × service.
 */
public final class AsyncBottlenecks implements Experiment {

    static final ClaimSpec UNBOUNDED_GROWS = new ClaimSpec("unbounded-grows",
            "Broken: with arrivals faster than the downstream's k slots can serve, an unbounded fan-out's latency grows"
                    + " through the run (the last quarter's mean at least 2× the first quarter's) while throughput"
                    + " stays at the downstream's capacity.");
    static final ClaimSpec WAIT_LINEAR_IN_DEPTH = new ClaimSpec("wait-linear-in-depth",
            "Each queued request waits about (requests ahead + 1) ÷ k × service time: the median ratio of measured to"
                    + " predicted wait is within 0.7–1.4.");
    static final ClaimSpec LITTLES_LAW = new ClaimSpec("littles-law",
            "Little's law holds for the queue in front of the downstream: the time-average queue length is within"
                    + " 0.8–1.25× of arrival rate × mean wait.");
    static final ClaimSpec BOUNDED_FLAT = new ClaimSpec("bounded-flat",
            "Bounded concurrency (a Semaphore that sheds or makes the producer wait) keeps p99 latency under 2 ×"
                    + " (queue ÷ k + 1) × service time and at most a fifth of the unbounded p99, while throughput stays"
                    + " at least 0.8× the downstream's capacity.");
    static final ClaimSpec SHARED_RESOURCE_SERIALIZES = new ClaimSpec("shared-resource-serializes",
            "Broken: n concurrent async tasks that each need one shared resource (one slot, a lock held across the"
                    + " wait) take at least 0.9 × n × service time; with n slots they take under 3 × service time.");
    static final ClaimSpec PY_UNBOUNDED_GROWS = new ClaimSpec("py-unbounded-grows",
            "Broken: in asyncio, tasks created faster than an asyncio.Semaphore(k) downstream serves them wait longer"
                    + " and longer (last quarter's mean latency at least 2× the first's), and Little's law holds for the"
                    + " waiting tasks within 0.75–1.33×.");
    static final ClaimSpec PY_BOUNDED_FLAT = new ClaimSpec("py-bounded-flat",
            "In asyncio, shedding requests beyond a bound keeps p99 latency under 4 × (queue ÷ k + 1) × service time"
                    + " and at most a fifth of the unbounded p99, while throughput stays at least 0.7× the downstream's"
                    + " capacity.");
    static final ClaimSpec PY_LOCK_SERIALIZES = new ClaimSpec("py-lock-serializes",
            "Broken: an asyncio.Lock held across an await makes n gathered tasks take at least 0.9 × n × the awaited"
                    + " time; without the lock they take under 3 × it.");

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Override
    public String id() {
        return "async-bottlenecks";
    }

    @Override
    public String title() {
        return "Bottlenecks in async systems: a downstream limit, Little's law, one shared resource, and bounded"
                + " concurrency";
    }

    @Override
    public String description() {
        return "Open-loop arrivals at twice the capacity of an async pool of k slots: an unbounded fan-out whose"
                + " latency grows with the queue (Little's law checked), a Semaphore that sheds or makes the producer"
                + " wait (latency flat, throughput at capacity), and a single shared resource serializing concurrent"
                + " tasks; the same on CPython asyncio.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("slots", "the downstream's slots k (connections)", 1, 256, 4, 4),
                new Param.IntParam("service-ms", "how long one request holds a slot, in ms", 1, 1_000, 5, 5),
                new Param.IntParam("overload", "arrival rate as a percentage of the capacity k ÷ service", 110, 1_000,
                        200, 200),
                new Param.IntParam("duration-ms", "how long requests keep arriving, in ms", 100, 60_000, 1_500, 400),
                new Param.IntParam("queue", "requests allowed to wait beyond the k in service (the bound)", 0, 10_000,
                        4, 4),
                new Param.IntParam("tasks", "concurrent tasks sharing one resource (n)", 2, 1_000, 20, 10));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(UNBOUNDED_GROWS, WAIT_LINEAR_IN_DEPTH, LITTLES_LAW, BOUNDED_FLAT, SHARED_RESOURCE_SERIALIZES,
                PY_UNBOUNDED_GROWS, PY_BOUNDED_FLAT, PY_LOCK_SERIALIZES);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(10);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int k = ctx.intParam("slots");
        int serviceMs = ctx.intParam("service-ms");
        int overload = ctx.intParam("overload");
        int durationMs = ctx.intParam("duration-ms");
        int queue = ctx.intParam("queue");
        int tasks = ctx.intParam("tasks");
        double capacity = k * 1000.0 / serviceMs;
        double rate = capacity * overload / 100.0;
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "async-bottlenecks-timer");
            t.setDaemon(true);
            return t;
        });
        try {
            ctx.progress(0.05, "unbounded fan-out");
            Run unbounded = best(ctx, () -> arrivals(ctx, timer, k, serviceMs, rate, durationMs, Admission.UNBOUNDED,
                    queue));
            ctx.progress(0.3, "bounded: shed");
            Run shed = best(ctx, () -> arrivals(ctx, timer, k, serviceMs, rate, durationMs, Admission.SHED, queue));
            ctx.progress(0.45, "bounded: backpressure");
            Run wait = best(ctx, () -> arrivals(ctx, timer, k, serviceMs, rate, durationMs, Admission.BACKPRESSURE,
                    queue));
            report(ctx, k, serviceMs, queue, capacity, rate, unbounded, shed, wait);

            ctx.progress(0.6, "one shared resource");
            shared(ctx, timer, tasks, serviceMs);
        } finally {
            timer.shutdownNow();
            timer.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        ctx.progress(0.7, "CPython: async_bottlenecks.py");
        python(ctx, k, serviceMs, overload, durationMs, queue, tasks);
        ctx.progress(1, "done");
    }

    // ---- the downstream -----------------------------------------------------------------------------------------

    /**
     * An async resource of {@code k} slots, each use taking a set service time: the stand-in for a connection pool
     * or a connector limit. {@link #use} never blocks; it returns a future completed when the request has been
     * served. Requests are served in arrival order (FIFO). Thread-safe: the state is guarded by {@code this}.
     */
    static final class AsyncSlots {
        private final int slots;
        private final long serviceNanos;
        private final ScheduledExecutorService timer;
        private final ArrayDeque<Request> waiting = new ArrayDeque<>(); // guarded by this
        private int busy; // guarded by this

        AsyncSlots(int slots, long serviceNanos, ScheduledExecutorService timer) {
            this.slots = slots;
            this.serviceNanos = serviceNanos;
            this.timer = timer;
        }

        /** Queues a request; the future completes with its timings once a slot has served it. */
        CompletableFuture<Request> use() {
            Request request = new Request(System.nanoTime());
            boolean start;
            synchronized (this) {
                request.ahead = waiting.size();
                start = busy < slots;
                if (start) {
                    busy++;
                } else {
                    waiting.add(request);
                }
            }
            if (start) {
                serve(request);
            }
            return request.done;
        }

        synchronized int queued() {
            return waiting.size();
        }

        private void serve(Request request) {
            request.started = System.nanoTime();
            timer.schedule(() -> finish(request), serviceNanos, TimeUnit.NANOSECONDS);
        }

        private void finish(Request request) {
            Request next;
            synchronized (this) {
                next = waiting.poll();
                if (next == null) {
                    busy--;
                }
            }
            if (next != null) {
                serve(next); // the slot passes straight to the oldest waiter
            }
            request.finished = System.nanoTime();
            request.done.complete(request);
        }
    }

    /** One request's timings, in nanoTime; {@code ahead} is the queue length it found on arrival. */
    static final class Request {
        final long arrived;
        final CompletableFuture<Request> done = new CompletableFuture<>();
        volatile int ahead;
        volatile long started;
        volatile long finished;

        Request(long arrived) {
            this.arrived = arrived;
        }

        double waitMs() {
            return (started - arrived) / 1e6;
        }

        double latencyMs() {
            return (finished - arrived) / 1e6;
        }
    }

    // ---- open-loop arrivals -------------------------------------------------------------------------------------

    private enum Admission { UNBOUNDED, SHED, BACKPRESSURE }

    /** What one arrival run measured. */
    private record Run(List<Request> served, int offered, int rejected, double seconds, double meanQueue,
                       double offeredRate) {
        double throughput() {
            return served.size() / seconds;
        }

        double percentile(double p) {
            double[] latencies = served.stream().mapToDouble(Request::latencyMs).sorted().toArray();
            return latencies[Math.min(latencies.length - 1, (int) Math.ceil(p * latencies.length) - 1)];
        }

        double meanWaitMs() {
            return served.stream().mapToDouble(Request::waitMs).average().orElse(0);
        }

        /** Mean latency of the requests that arrived in the given quarter of the arrivals. */
        double quarterMean(int quarter) {
            int n = served.size();
            return served.subList(quarter * n / 4, (quarter + 1) * n / 4).stream()
                    .mapToDouble(Request::latencyMs).average().orElse(0);
        }
    }

    @FunctionalInterface
    private interface RunSupplier {
        Run get() throws Exception;
    }

    /** The run with the lowest p99 of {@code ctx.repeats() − 1} (at least one). */
    private static Run best(RunContext ctx, RunSupplier run) throws Exception {
        Run best = null;
        for (int i = 0; i < Math.max(1, ctx.repeats() - 1); i++) {
            ctx.checkCancelled();
            Run r = run.get();
            if (best == null || r.percentile(0.99) < best.percentile(0.99)) {
                best = r;
            }
        }
        return best;
    }

    /**
     * One producer thread issues requests at {@code rate} per second for {@code durationMs} (open loop: it does not
     * wait for answers, except under backpressure), sampling the downstream's queue length every 200 µs until
     * the last request is served.
     */
    private static Run arrivals(RunContext ctx, ScheduledExecutorService timer, int k, int serviceMs, double rate,
                                int durationMs, Admission admission, int queue) throws Exception {
        AsyncSlots slots = new AsyncSlots(k, TimeUnit.MILLISECONDS.toNanos(serviceMs), timer);
        Semaphore bound = new Semaphore(k + queue);
        List<Request> served = new ArrayList<>();
        List<CompletableFuture<Request>> futures = new ArrayList<>();
        long samples = 0;
        long queuedSum = 0;
        int offered = 0;
        int rejected = 0;
        long interval = (long) (1e9 / rate);
        long start = System.nanoTime();
        long end = start + TimeUnit.MILLISECONDS.toNanos(durationMs);
        long next = start;
        long lastSample = start;
        while (next < end) {
            long now = System.nanoTime();
            if (now - lastSample >= 200_000) {
                queuedSum += slots.queued();
                samples++;
                lastSample = now;
            }
            if (now < next) {
                LockSupport.parkNanos(Math.min(next - now, 200_000));
                continue;
            }
            next += interval;
            offered++;
            switch (admission) {
                case UNBOUNDED -> futures.add(slots.use());
                case SHED -> {
                    if (bound.tryAcquire()) {
                        futures.add(slots.use().whenComplete((r, e) -> bound.release()));
                    } else {
                        rejected++; // answered at once: a 503 or 429, not a queued request
                    }
                }
                case BACKPRESSURE -> {
                    // the producer waits here: arrivals slow to what the downstream can take
                    if (!bound.tryAcquire(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("no slot freed in " + PATIENCE.toSeconds() + " s");
                    }
                    futures.add(slots.use().whenComplete((r, e) -> bound.release()));
                }
            }
        }
        double offeredRate = offered / ((System.nanoTime() - start) / 1e9);
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
        while (!all.isDone()) {
            ctx.checkCancelled();
            queuedSum += slots.queued();
            samples++;
            LockSupport.parkNanos(200_000);
            if (System.nanoTime() - end > PATIENCE.toNanos()) {
                throw new IllegalStateException("requests still queued " + PATIENCE.toSeconds() + " s after the last"
                        + " arrival");
            }
        }
        for (CompletableFuture<Request> f : futures) {
            served.add(f.join());
        }
        long lastDone = served.stream().mapToLong(r -> r.finished).max().orElse(start);
        return new Run(served, offered, rejected, (lastDone - start) / 1e9, (double) queuedSum / Math.max(1, samples),
                offeredRate);
    }

    private static void report(RunContext ctx, int k, int serviceMs, int queue, double capacity, double rate,
                               Run unbounded, Run shed, Run wait) {
        ctx.table(Table.builder(String.format("An async downstream of %d slots × %d ms (capacity %.0f/s), arrivals at"
                                + " %.0f/s", k, serviceMs, capacity, rate), "admission", "offered", "rejected",
                        "served/s", "p50 latency, ms", "p99 latency, ms", "first-quarter mean, ms",
                        "last-quarter mean, ms", "mean queue length L", "λ × W")
                .row("Broken: unbounded fan-out", unbounded.offered(), 0, Math.round(unbounded.throughput()),
                        f1(unbounded.percentile(0.5)), f1(unbounded.percentile(0.99)), f1(unbounded.quarterMean(0)),
                        f1(unbounded.quarterMean(3)), f1(unbounded.meanQueue()), f1(littleRhs(unbounded)))
                .row("Semaphore(" + (k + queue) + ").tryAcquire: shed", shed.offered(), shed.rejected(),
                        Math.round(shed.throughput()), f1(shed.percentile(0.5)), f1(shed.percentile(0.99)),
                        f1(shed.quarterMean(0)), f1(shed.quarterMean(3)), f1(shed.meanQueue()), f1(littleRhs(shed)))
                .row("Semaphore(" + (k + queue) + ").acquire: backpressure", wait.offered(), 0,
                        Math.round(wait.throughput()), f1(wait.percentile(0.5)), f1(wait.percentile(0.99)),
                        f1(wait.quarterMean(0)), f1(wait.quarterMean(3)), f1(wait.meanQueue()), f1(littleRhs(wait)))
                .build());
        List<Series.Point> points = new ArrayList<>();
        for (Request r : unbounded.served()) {
            points.add(new Series.Point((r.arrived - unbounded.served().getFirst().arrived) / 1e6, r.latencyMs()));
        }
        ctx.series(new Series("latency over the run", "unbounded", "arrival, ms", "latency, ms", thin(points)));
        List<Series.Point> bounded = new ArrayList<>();
        for (Request r : shed.served()) {
            bounded.add(new Series.Point((r.arrived - shed.served().getFirst().arrived) / 1e6, r.latencyMs()));
        }
        ctx.series(new Series("latency over the run", "shed beyond the bound", "arrival, ms", "latency, ms",
                thin(bounded)));

        double growth = unbounded.quarterMean(3) / unbounded.quarterMean(0);
        double unboundedShare = unbounded.throughput() / capacity;
        ctx.claim(UNBOUNDED_GROWS, Verdict.check(growth >= 2 && unboundedShare >= 0.8 && unboundedShare <= 1.1,
                String.format("last-quarter mean latency %.1f ms vs first-quarter %.1f ms: %.1f× (needs ≥ 2×);"
                                + " served %.0f/s = %.2f× the capacity %.0f/s (needs 0.8–1.1×) while %.0f/s arrived",
                        unbounded.quarterMean(3), unbounded.quarterMean(0), growth, unbounded.throughput(),
                        unboundedShare, capacity, unbounded.offeredRate())));

        double[] ratios = unbounded.served().stream().filter(r -> r.ahead >= 2 * k)
                .mapToDouble(r -> r.waitMs() / ((r.ahead + 1.0) / k * serviceMs)).sorted().toArray();
        double median = ratios.length == 0 ? 0 : ratios[ratios.length / 2];
        ctx.claim(WAIT_LINEAR_IN_DEPTH, Verdict.check(ratios.length >= 10 && median >= 0.7 && median <= 1.4,
                String.format("%d requests that found ≥ %d ahead: median measured ÷ predicted wait %.2f (needs"
                        + " 0.7–1.4)", ratios.length, 2 * k, median)));

        double little = unbounded.meanQueue() / littleRhs(unbounded);
        ctx.claim(LITTLES_LAW, Verdict.check(little >= 0.8 && little <= 1.25, String.format(
                "L = %.1f sampled vs λW = %.0f/s × %.1f ms = %.1f: %.2f× (needs 0.8–1.25×)", unbounded.meanQueue(),
                unbounded.served().size() / unbounded.seconds(), unbounded.meanWaitMs(), littleRhs(unbounded),
                little)));

        double limit = 2 * ((double) queue / k + 1) * serviceMs;
        double shedP99 = shed.percentile(0.99);
        double waitP99 = wait.percentile(0.99);
        double worstP99 = Math.max(shedP99, waitP99);
        double minShare = Math.min(shed.throughput(), wait.throughput()) / capacity;
        ctx.claim(BOUNDED_FLAT, Verdict.check(worstP99 < limit && worstP99 * 5 <= unbounded.percentile(0.99)
                && minShare >= 0.8, String.format("p99 shed %.1f ms, backpressure %.1f ms (needs < %.1f ms and ≤ a"
                        + " fifth of the unbounded %.1f ms); throughput ≥ %.2f× the capacity (needs ≥ 0.8×)", shedP99,
                waitP99, limit, unbounded.percentile(0.99), minShare)));
    }

    /** λ × W: arrival rate (requests served over the whole run) times the mean wait, in requests. */
    private static double littleRhs(Run run) {
        return run.served().size() / run.seconds() * run.meanWaitMs() / 1000;
    }

    private static String f1(double v) {
        return String.format("%.1f", v);
    }

    private static List<Series.Point> thin(List<Series.Point> points) {
        int step = Math.max(1, points.size() / 200);
        List<Series.Point> out = new ArrayList<>();
        for (int i = 0; i < points.size(); i += step) {
            out.add(points.get(i));
        }
        return out;
    }

    // ---- one shared resource --------------------------------------------------------------------------------------

    private static void shared(RunContext ctx, ScheduledExecutorService timer, int tasks, int serviceMs)
            throws Exception {
        double one = Double.MAX_VALUE;
        double many = Double.MAX_VALUE;
        for (int i = 0; i < ctx.repeats(); i++) {
            one = Math.min(one, together(timer, 1, tasks, serviceMs));
            many = Math.min(many, together(timer, tasks, tasks, serviceMs));
        }
        ctx.table(Table.builder(tasks + " concurrent async tasks, each holding the resource " + serviceMs + " ms",
                        "resource", "all done after, ms", "n × service, ms")
                .row("Broken: one slot (a lock held across the wait, a single writer)", f1(one),
                        tasks * serviceMs)
                .row(tasks + " slots", f1(many), tasks * serviceMs).build());
        ctx.claim(SHARED_RESOURCE_SERIALIZES, Verdict.check(one >= 0.9 * tasks * serviceMs && many < 3 * serviceMs,
                String.format("one slot: %.1f ms (needs ≥ %.1f ms); %d slots: %.1f ms (needs < %d ms)", one,
                        0.9 * tasks * serviceMs, tasks, many, 3 * serviceMs)));
    }

    /** Starts {@code tasks} requests at once on a resource of {@code slots}; returns ms until all are served. */
    private static double together(ScheduledExecutorService timer, int slots, int tasks, int serviceMs) {
        AsyncSlots resource = new AsyncSlots(slots, TimeUnit.MILLISECONDS.toNanos(serviceMs), timer);
        long start = System.nanoTime();
        CompletableFuture<?>[] all = new CompletableFuture<?>[tasks];
        Arrays.setAll(all, i -> resource.use());
        CompletableFuture.allOf(all).orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS).join();
        return (System.nanoTime() - start) / 1e6;
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int k, int serviceMs, int overload, int durationMs, int queue,
                               int tasks) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("async_bottlenecks.py", List.of("asyncio"),
                Duration.ofSeconds(120), "--slots", Integer.toString(k), "--service-ms", Integer.toString(serviceMs),
                "--overload", Integer.toString(overload), "--duration-ms", Integer.toString(durationMs),
                "--queue", Integer.toString(queue), "--tasks", Integer.toString(tasks));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_UNBOUNDED_GROWS, PY_BOUNDED_FLAT, PY_LOCK_SERIALIZES);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                JsonNode u = json.path("unbounded");
                JsonNode s = json.path("shed");
                JsonNode lock = json.path("lock");
                double capacity = k * 1000.0 / serviceMs;
                ctx.table(Table.builder(String.format("%s: asyncio.Semaphore(%d) around await asyncio.sleep(%d ms),"
                                        + " tasks created at %.0f/s", py, k, serviceMs, capacity * overload / 100),
                                "admission", "offered", "rejected", "served/s", "p99 latency, ms",
                                "first-quarter mean, ms", "last-quarter mean, ms", "mean waiting L", "λ × W")
                        .row("Broken: a task per arrival", u.path("offered").asInt(), 0,
                                Math.round(u.path("throughput").asDouble()), f1(u.path("p99_ms").asDouble()),
                                f1(u.path("q1_ms").asDouble()), f1(u.path("q4_ms").asDouble()),
                                f1(u.path("mean_waiting").asDouble()), f1(u.path("lambda_w").asDouble()))
                        .row("shed beyond " + (k + queue) + " in the system", s.path("offered").asInt(),
                                s.path("rejected").asInt(), Math.round(s.path("throughput").asDouble()),
                                f1(s.path("p99_ms").asDouble()), f1(s.path("q1_ms").asDouble()),
                                f1(s.path("q4_ms").asDouble()), f1(s.path("mean_waiting").asDouble()),
                                f1(s.path("lambda_w").asDouble()))
                        .build());
                double growth = u.path("q4_ms").asDouble() / u.path("q1_ms").asDouble();
                double little = u.path("mean_waiting").asDouble() / u.path("lambda_w").asDouble();
                ctx.claim(PY_UNBOUNDED_GROWS, Verdict.check(growth >= 2 && little >= 0.75 && little <= 1.33,
                        String.format("last-quarter mean %.1f ms vs first %.1f ms: %.1f× (needs ≥ 2×); L %.1f vs λW"
                                        + " %.1f: %.2f× (needs 0.75–1.33×); %s", u.path("q4_ms").asDouble(),
                                u.path("q1_ms").asDouble(), growth, u.path("mean_waiting").asDouble(),
                                u.path("lambda_w").asDouble(), little, py)));
                // asyncio's timers overshoot by up to a millisecond or so per sleep: a wider factor than the JVM's
                double limit = 4 * ((double) queue / k + 1) * serviceMs;
                double share = s.path("throughput").asDouble() / capacity;
                double p99 = s.path("p99_ms").asDouble();
                ctx.claim(PY_BOUNDED_FLAT, Verdict.check(p99 < limit && p99 * 5 <= u.path("p99_ms").asDouble()
                        && share >= 0.7, String.format("p99 %.1f ms (needs < %.1f ms and ≤ a fifth of the unbounded"
                                + " %.1f ms); served %.0f/s = %.2f× the capacity (needs ≥ 0.7×); %d rejected", p99,
                        limit, u.path("p99_ms").asDouble(), s.path("throughput").asDouble(), share,
                        s.path("rejected").asInt())));
                double locked = lock.path("locked_ms").asDouble();
                double free = lock.path("free_ms").asDouble();
                ctx.table(Table.builder(py + ": " + tasks + " gathered tasks, each awaiting " + serviceMs + " ms",
                                "variant", "all done after, ms")
                        .row("Broken: async with lock: await asyncio.sleep(...)", f1(locked))
                        .row("no lock across the await", f1(free)).build());
                ctx.claim(PY_LOCK_SERIALIZES, Verdict.check(locked >= 0.9 * tasks * serviceMs
                        && free < 3 * serviceMs, String.format("with the lock %.1f ms (needs ≥ %.1f ms); without"
                        + " %.1f ms (needs < %d ms)", locked, 0.9 * tasks * serviceMs, free, 3 * serviceMs)));
            }
        }
    }
}
