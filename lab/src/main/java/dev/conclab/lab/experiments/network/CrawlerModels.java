package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.crawl.crawler.Crawl;
import dev.conclab.crawl.crawler.CrawlConfig;
import dev.conclab.crawl.crawler.CrawlSummary;
import dev.conclab.crawl.crawler.ErrorKind;
import dev.conclab.crawl.crawler.ModelKind;
import dev.conclab.crawl.site.RequestLog;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A concurrent web crawler three ways — a fixed pool of platform threads, a virtual thread per fetch, and the async
 * {@code java.net.http} client — against one local test site ({@code crawl} module's {@link TestSite}: a Netty
 * loopback server of generated linked pages that answers each request after a set latency L), beside a CPython
 * crawler with a {@code ThreadPoolExecutor} + {@code urllib} and with {@code asyncio} + {@code aiohttp}.
 *
 * <ol>
 *   <li><b>BASELINE — sequential.</b> The same crawler with one fetch in flight: every page waits its L in turn,
 *       so P pages take about P × L.</li>
 *   <li><b>Three fetch models at concurrency N.</b> Each crawls the whole site (best of {@code ctx.repeats()}); all
 *       must fetch the same page set as the baseline — every page once, though each is linked from several pages
 *       in four spellings (dedupe after normalization), checked from the site's request log — in about the ideal
 *       P × L / N. A sampler records the platform (OS) threads each model started: the pool holds N; virtual
 *       threads run on the scheduler's few carriers; the async model needs a timer and a parse pool; the client's
 *       own tasks run on virtual threads in both, so the client adds only its selector thread.</li>
 *   <li><b>Bad input.</b> A site whose pages also link to traps (malformed and non-HTTP URLs, another host, 404s,
 *       a redirect loop and an over-long chain, a huge and a binary page, flaky 503s, a page slower than the read
 *       timeout, and a subtree robots.txt disallows): every model counts each kind, skips it and completes; the
 *       site's log shows nothing under {@code /private/} was requested.</li>
 *   <li><b>Politeness.</b> A per-host rate R: the site's log shows at most R requests per second on average, and no
 *       window of W seconds with more than R × (W + 0.15 s) + 1 — the crawler spaces requests 1/R apart when it
 *       reserves them, and a sender that wakes late on a loaded machine goes out together with the next ones.</li>
 * </ol>
 * The CPython side ({@code crawler_models.py}) crawls the same site (its URL is passed in) with a
 * {@code ThreadPoolExecutor(max_workers=N)} of blocking {@code urllib} fetches and with {@code asyncio} +
 * {@code aiohttp} behind {@code TCPConnector(limit=N)} and an {@code asyncio.Semaphore(N)}; links parsed with
 * {@code html.parser}, robots.txt with {@code urllib.robotparser}.
 *
 * <p>Run: {@code ./conclab run crawler-models -p pages=1000 -p latency-ms=20 -p concurrency=50}. Expect the
 * sequential crawl at ≈ P × L, each model within 2 × P × L / N + 250 ms with the same page set, the platform pool
 * using ≥ N OS threads and the other two far fewer, every trap counted, and the rate never exceeded.
 */
public final class CrawlerModels implements Experiment {

    static final ClaimSpec SAME_PAGES = new ClaimSpec("same-pages",
            "The sequential crawl and all three fetch models find the same page set, and the site serves each page"
                    + " exactly once per crawl although every page is linked several times in different spellings.");
    static final ClaimSpec NEAR_IDEAL = new ClaimSpec("near-ideal",
            "With N fetches in flight each model crawls P pages of latency L within 2 × P × L / N plus 250 ms, while"
                    + " the sequential crawl takes at least P × L.");
    static final ClaimSpec THREADS_USED = new ClaimSpec("threads-used",
            "The platform-pool model starts N fetch threads; the virtual-thread model starts no OS thread per fetch"
                    + " and the async model only a timer and a parse pool of one thread per core; with its tasks on"
                    + " virtual threads, their HttpClient adds no more than its selector thread.");
    static final ClaimSpec BAD_INPUT = new ClaimSpec("bad-input",
            "Every model counts and skips each kind of bad input — malformed, non-HTTP, external, 404, redirect"
                    + " loop, too many redirects, too large, not HTML, timeout — retries flaky pages to success, and"
                    + " never requests a path robots.txt disallows.");
    static final ClaimSpec RATE_RESPECTED = new ClaimSpec("rate-respected",
            "With a per-host rate R, the site sees at most R requests per second on average, and never more than"
                    + " R × (W + 0.15 s) + 1 in any window of W seconds.");
    static final ClaimSpec PY_CRAWLERS = new ClaimSpec("py-crawlers",
            "CPython crawls the same page set with a ThreadPoolExecutor of N urllib fetches and with asyncio +"
                    + " aiohttp limited to N, each within 2 × P × L / N plus 400 ms.");

    /** Above 2 × the ideal: robots.txt first, the narrow start of a breadth-first crawl, client and thread start. */
    static final double SLACK_MS = 250;
    /** CPython's allowance: interpreter-speed parsing and bookkeeping on one thread at a time. */
    static final double PY_SLACK_MS = 400;
    /** The politeness window, and the lateness allowed in it: requests are spaced 1/R apart when reserved, but a
     *  sender that wakes late on a loaded machine goes out together with the next ones (one more at the edge). */
    static final double RATE_WINDOW_S = 0.3;
    static final double RATE_LATENESS_S = 0.15;
    /** The average rate may exceed R by this factor: the first request may arrive late, shortening the span. */
    static final double RATE_AVERAGE_MARGIN = 1.1;
    /** The kinds the trap site must produce in every model. */
    static final Set<ErrorKind> TRAP_KINDS = EnumSet.of(ErrorKind.MALFORMED_URL, ErrorKind.UNSUPPORTED_SCHEME,
            ErrorKind.EXTERNAL_HOST, ErrorKind.ROBOTS_DISALLOWED, ErrorKind.HTTP_4XX, ErrorKind.REDIRECT_LOOP,
            ErrorKind.TOO_MANY_REDIRECTS, ErrorKind.TOO_LARGE, ErrorKind.NOT_HTML, ErrorKind.TIMEOUT);
    private static final Duration GIVE_UP = Duration.ofSeconds(120);

    @Override
    public String id() {
        return "crawler-models";
    }

    @Override
    public String title() {
        return "A concurrent web crawler: platform pool, virtual threads and async HttpClient beside CPython threads"
                + " and aiohttp";
    }

    @Override
    public String description() {
        return "Crawls a local test site of P linked pages with latency L sequentially and with three fetch models at"
                + " N in flight (platform pool, virtual threads, async java.net.http): same pages, time vs P × L / N,"
                + " OS threads used, bad input counted and skipped, robots.txt and a per-host rate obeyed; CPython"
                + " crawls it with ThreadPoolExecutor + urllib and asyncio + aiohttp.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("pages", "pages on the site (P)", 20, 20_000, 1000, 60),
                new Param.IntParam("latency-ms", "the site's latency per request (L)", 1, 1_000, 20, 10),
                new Param.IntParam("concurrency", "fetches in flight (N)", 4, 1_000, 50, 16),
                new Param.IntParam("rate", "the per-host rate for the politeness run (R, requests/s)", 10, 1_000, 50,
                        100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SAME_PAGES, NEAR_IDEAL, THREADS_USED, BAD_INPUT, RATE_RESPECTED, PY_CRAWLERS);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(90) : Duration.ofMinutes(30);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int pages = ctx.intParam("pages");
        int latency = ctx.intParam("latency-ms");
        int n = ctx.intParam("concurrency");
        int rate = ctx.intParam("rate");
        Table.Builder table = Table.builder("crawl of P = " + pages + " pages, L = " + latency + " ms, N = " + n
                        + " in flight", "side", "variant", "wall ms", "runs", "expected", "pages · requests",
                "OS threads started", "errors");
        ctx.progress(0.02, "sequential baseline");
        SiteConfig siteConfig = SiteConfig.of(pages).withLatency(Duration.ofMillis(latency), Duration.ZERO)
                .withRecordRequests(true);
        try (TestSite site = TestSite.start(siteConfig)) {
            Set<URI> expected = new HashSet<>();
            for (int i = 0; i < pages; i++) {
                expected.add(site.uri("/page/" + i));
            }
            modelsSideBySide(ctx, site, expected, pages, latency, n, table);
            ctx.progress(0.75, "CPython: crawler_models.py");
            python(ctx, site, pages, latency, n, table);
        }
        ctx.progress(0.85, "bad input");
        badInput(ctx, n, table);
        ctx.progress(0.92, "politeness");
        politeness(ctx, rate, n, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static CrawlConfig config(ModelKind model, int concurrency, int pages) {
        return CrawlConfig.defaults().withModel(model).withConcurrency(concurrency).withMaxPages(pages * 2 + 100)
                .withMaxDepth(100_000).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    /** One crawl of the site from page 0, its request log cleared first; the OS threads it started sampled. */
    private record Run(CrawlSummary summary, double millis, Map<String, Long> perPath, ThreadSampler.Seen threads) {}

    private static Run crawl(TestSite site, CrawlConfig config) throws Exception {
        site.log().clear();
        try (ThreadSampler sampler = ThreadSampler.start()) {
            long start = System.nanoTime();
            CrawlSummary summary;
            try (Crawl crawl = Crawl.start(config, List.of(site.uri("/page/0").toString()))) {
                summary = crawl.await(GIVE_UP);
            }
            double millis = (System.nanoTime() - start) / 1e6;
            Map<String, Long> perPath = site.log().hits().stream()
                    .collect(Collectors.groupingBy(RequestLog.Hit::path, Collectors.counting()));
            return new Run(summary, millis, perPath, sampler.stop());
        }
    }

    private static boolean eachOnce(Run run) {
        return run.perPath().values().stream().allMatch(c -> c == 1);
    }

    private static void modelsSideBySide(RunContext ctx, TestSite site, Set<URI> expected, int pages, int latency,
                                         int n, Table.Builder table) throws Exception {
        Run sequential = crawl(site, config(ModelKind.VIRTUAL, 1, pages));
        double seqFloor = (double) pages * latency;
        double ideal = seqFloor / n;
        double bound = 2 * ideal + SLACK_MS;
        table.row("JVM", "BASELINE sequential (1 in flight)", sequential.millis(), 1, "≥ " + fmt(seqFloor),
                pageCounts(sequential.summary()), sequential.threads().render(), errors(sequential.summary()));
        boolean sameSet = sequential.summary().fetched().equals(expected) && eachOnce(sequential);
        boolean fast = sequential.millis() >= seqFloor;
        Map<ModelKind, Run> best = new EnumMap<>(ModelKind.class);
        Map<ModelKind, Integer> maxOwn = new EnumMap<>(ModelKind.class);
        Map<ModelKind, Integer> maxClient = new EnumMap<>(ModelKind.class);
        Map<ModelKind, Integer> minClient = new EnumMap<>(ModelKind.class);
        StringBuilder evidence = new StringBuilder();
        double step = 0.6 / (ModelKind.values().length * ctx.repeats());
        double at = 0.1;
        for (int r = 0; r < ctx.repeats(); r++) { // take turns so a slow spell of the machine hits every model
            for (ModelKind model : ModelKind.values()) {
                ctx.checkCancelled();
                ctx.progress(at += step, model.label() + " run " + (r + 1));
                Run run = crawl(site, config(model, n, pages));
                sameSet &= run.summary().fetched().equals(expected) && eachOnce(run)
                        && run.summary().errorCount() == 0;
                best.merge(model, run, (a, b) -> a.millis() <= b.millis() ? a : b);
                maxOwn.merge(model, run.threads().pool() + run.threads().other(), Math::max);
                maxClient.merge(model, run.threads().client(), Math::max);
                minClient.merge(model, run.threads().client(), Math::min);
            }
        }
        for (ModelKind model : ModelKind.values()) {
            Run run = best.get(model);
            fast &= run.millis() <= bound;
            table.row("JVM", label(model, n), run.millis(), ctx.repeats(), "≤ " + fmt(bound),
                    pageCounts(run.summary()), run.threads().render(), errors(run.summary()));
            evidence.append(String.format("; %s %.1f ms (%d pages, %d requests)", model.label(), run.millis(),
                    run.summary().pages(), run.summary().requests()));
        }
        ctx.claim(SAME_PAGES, Verdict.check(sameSet, String.format(
                "site of %d pages: sequential fetched %d, %s — every crawl's set %s the site's %d pages; most requests"
                        + " for one path in any crawl: %d (needs 1)", pages, sequential.summary().fetched().size(),
                best.entrySet().stream().map(e -> e.getKey().label() + " " + e.getValue().summary().fetched().size())
                        .collect(Collectors.joining(", ")),
                sameSet ? "equals" : "does not always equal", pages,
                best.values().stream().flatMap(r -> r.perPath().values().stream()).mapToLong(Long::longValue).max()
                        .orElse(0))));
        ctx.claim(NEAR_IDEAL, Verdict.check(fast, String.format(
                "sequential %.1f ms (needs ≥ P × L = %.0f ms)%s — best of %d each (needs ≤ 2 × %.1f ms ideal + %.0f ms"
                        + " = %.1f ms)", sequential.millis(), seqFloor, evidence, ctx.repeats(), ideal, SLACK_MS,
                bound)));
        ThreadSampler.Seen platform = best.get(ModelKind.PLATFORM).threads();
        int virtualOwn = maxOwn.get(ModelKind.VIRTUAL);
        int asyncOwn = maxOwn.get(ModelKind.ASYNC);
        int cores = Runtime.getRuntime().availableProcessors();
        int mostClient = Math.max(maxClient.get(ModelKind.VIRTUAL), maxClient.get(ModelKind.ASYNC));
        ctx.claim(THREADS_USED, Verdict.check(platform.pool() == n && virtualOwn <= 2 && asyncOwn <= 2 + cores
                && mostClient <= 1, String.format(
                "platform threads started during a crawl at N = %d (max over %d runs): platform pool %d fetch threads"
                        + " (needs %d); virtual %d of its own (needs ≤ 2: dispatcher, politeness gate), async %d of"
                        + " its own (needs ≤ 2 + %d cores: dispatcher, timer, parsers); HttpClient threads per crawl"
                        + " (selector + workers): %s (needs ≤ 1 in virtual and async, whose client tasks run on"
                        + " virtual threads; the platform model's client has a cached pool, as the JDK's default)",
                n, ctx.repeats(), platform.pool(), n, virtualOwn, asyncOwn, cores,
                maxClient.entrySet().stream().map(e -> e.getKey().label() + " " + minClient.get(e.getKey()) + ".."
                        + e.getValue()).collect(Collectors.joining(", ")))));
    }

    private static String label(ModelKind model, int n) {
        return switch (model) {
            case PLATFORM -> "platform pool of " + n + " threads, HttpClient.send";
            case VIRTUAL -> "a virtual thread per fetch (≤ " + n + "), HttpClient.send";
            case ASYNC -> "HttpClient.sendAsync, ≤ " + n + " in flight";
        };
    }

    // ---- bad input -----------------------------------------------------------------------------------------------

    private record TrapRun(ModelKind model, TestSite site, Run run) {}

    /** One trap site per model (flaky pages count their own failures), the three crawls at once. */
    private static void badInput(RunContext ctx, int n, Table.Builder table) throws Exception {
        SiteConfig traps = SiteConfig.of(20).withTraps(true).withHugeBytes(2 << 20)
                .withSlow(0, Duration.ofSeconds(1)).withRecordRequests(true);
        boolean holds = true;
        StringBuilder evidence = new StringBuilder();
        List<TestSite> sites = new ArrayList<>();
        try {
            List<java.util.concurrent.Future<TrapRun>> runs = new ArrayList<>();
            try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (ModelKind model : ModelKind.values()) {
                    TestSite site = TestSite.start(traps);
                    sites.add(site);
                    CrawlConfig config = config(model, n, 20)
                            .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(300)).withMaxBodyBytes(1 << 20)
                            .withRetries(3, 2, Duration.ofMillis(5), Duration.ofMillis(20));
                    runs.add(threads.submit(() -> new TrapRun(model, site, crawl(site, config))));
                }
            }
            for (var future : runs) {
                TrapRun trap = future.get();
                TestSite site = trap.site();
                CrawlSummary s = trap.run().summary();
                Set<ErrorKind> missing = EnumSet.copyOf(TRAP_KINDS);
                missing.removeAll(s.errors().keySet());
                long privateHits = trap.run().perPath().keySet().stream().filter(p -> p.startsWith("/private/"))
                        .count();
                boolean flakyOk = s.fetched().contains(site.uri("/flaky/0"))
                        && s.fetched().contains(site.uri("/flaky/10"));
                boolean allPages = true;
                for (int i = 0; i < 20; i++) {
                    allPages &= s.fetched().contains(site.uri("/page/" + i));
                }
                holds &= missing.isEmpty() && privateHits == 0 && flakyOk && allPages && !s.stopped();
                table.row("JVM", "traps: " + trap.model().label() + " (the three at once)", trap.run().millis(), 1,
                        "every kind counted", pageCounts(s), "", errors(s));
                evidence.append(String.format("%s%s: %d pages%s, %s, flaky pages %s, /private/ requested %d times,"
                                + " kinds missing %s", evidence.isEmpty() ? "" : "; ", trap.model().label(),
                        s.pages(), allPages ? " (all 20 site pages)" : " (NOT all 20 site pages)", errors(s),
                        flakyOk ? "fetched" : "NOT fetched", privateHits, missing));
            }
        } finally {
            sites.forEach(TestSite::close);
        }
        ctx.claim(BAD_INPUT, Verdict.check(holds, evidence.toString()));
    }

    // ---- politeness ----------------------------------------------------------------------------------------------

    private static void politeness(RunContext ctx, int rate, int n, Table.Builder table) throws Exception {
        int requests = Math.max(20, (int) Math.round(rate * 0.6)); // about 0.6 s of requests
        try (TestSite site = TestSite.start(SiteConfig.of(requests * 4).withRecordRequests(true))) {
            CrawlConfig config = config(ModelKind.VIRTUAL, n, requests).withMaxPages(requests).withPerHostRate(rate);
            Run run = crawl(site, config);
            List<RequestLog.Hit> hits = site.log().hits();
            long window = (long) (RATE_WINDOW_S * 1e9);
            int worst = 0;
            for (int i = 0; i < hits.size(); i++) {
                long end = hits.get(i).nanos() + window;
                int count = 0;
                for (int j = i; j < hits.size() && hits.get(j).nanos() < end; j++) {
                    count++;
                }
                worst = Math.max(worst, count);
            }
            double allowed = rate * (RATE_WINDOW_S + RATE_LATENESS_S) + 1;
            double spanS = hits.size() < 2 ? 0 : (hits.getLast().nanos() - hits.getFirst().nanos()) / 1e9;
            double average = spanS == 0 ? Double.POSITIVE_INFINITY : (hits.size() - 1) / spanS;
            table.row("JVM", "per-host rate " + rate + "/s (virtual, N = " + n + ")", run.millis(), 1,
                    "≤ " + fmt(allowed) + " per " + RATE_WINDOW_S + " s", pageCounts(run.summary()),
                    run.threads().render(), String.format("%.1f/s on average, most in %.1f s: %d", average,
                            RATE_WINDOW_S, worst));
            ctx.claim(RATE_RESPECTED, Verdict.check(hits.size() >= requests && worst <= allowed
                    && average <= rate * RATE_AVERAGE_MARGIN, String.format(
                    "%d requests at the site over %.2f s: %.1f/s on average at R = %d/s (needs ≤ %.1f); the most in any"
                            + " %.1f s window %d (needs ≤ %.0f = R × (W + %.2f s) + 1; R × W alone would be %.0f)",
                    hits.size(), spanS, average, rate, rate * RATE_AVERAGE_MARGIN, RATE_WINDOW_S, worst, allowed,
                    RATE_LATENESS_S, rate * RATE_WINDOW_S)));
        }
    }

    // ---- CPython -------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, TestSite site, int pages, int latency, int n, Table.Builder table)
            throws Exception {
        int repeats = ctx.repeats();
        long budget = 30_000 + 4L * repeats * pages * latency / n + 5_000;
        site.log().clear();
        ProbeOutcome outcome = PythonProbes.of(ctx).run("crawler_models.py", List.of("aiohttp"),
                Duration.ofMillis(budget), "--base", site.uri("").toString(), "--concurrency", Integer.toString(n),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CRAWLERS);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode j = ran.json();
                String py = "CPython " + ran.interpreter().version() + " · aiohttp " + j.path("aiohttp_version").asText();
                double bound = 2.0 * pages * latency / n + PY_SLACK_MS;
                boolean holds = true;
                StringBuilder evidence = new StringBuilder();
                for (String variant : List.of("threads", "aiohttp")) {
                    JsonNode v = j.path(variant);
                    double ms = v.path("elapsed_s").asDouble(Double.NaN) * 1e3;
                    Set<Integer> found = new HashSet<>();
                    v.path("pages").forEach(p -> found.add(p.asInt()));
                    boolean same = found.size() == pages && found.stream().allMatch(p -> p >= 0 && p < pages);
                    holds &= same && ms <= bound;
                    String name = variant.equals("threads")
                            ? "ThreadPoolExecutor(max_workers=" + n + ") + urllib"
                            : "asyncio + aiohttp, TCPConnector(limit=" + n + ") + Semaphore(" + n + ")";
                    table.row(py, name, ms, repeats, "≤ " + fmt(bound), found.size() + " · "
                            + v.path("requests").asInt(), variant.equals("threads") ? n + " workers" : "1 (event loop)",
                            "");
                    evidence.append(String.format("%s%s: %d of %d pages %s in %.1f ms", evidence.isEmpty() ? "" : "; ",
                            variant, found.size(), pages, same ? "(the same set)" : "(NOT the same set)", ms));
                }
                ctx.note(py + ": ThreadPoolExecutor's default max_workers here is "
                        + j.path("default_max_workers").asInt() + " (min(32, os.cpu_count() + 4)); TCPConnector"
                        + " defaults limit=" + j.path("default_limit").asInt() + ", limit_per_host="
                        + j.path("default_limit_per_host").asInt());
                ctx.claim(PY_CRAWLERS, Verdict.check(holds, evidence + String.format(
                        " (best of %d; needs all %d pages and ≤ 2 × %.1f ms ideal + %.0f ms = %.1f ms)", repeats,
                        pages, (double) pages * latency / n, PY_SLACK_MS, bound)));
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static String pageCounts(CrawlSummary s) {
        return s.pages() + " · " + s.requests();
    }

    private static String errors(CrawlSummary s) {
        if (s.errors().isEmpty()) {
            return "none";
        }
        Map<String, Long> sorted = new TreeMap<>();
        s.errors().forEach((k, v) -> sorted.put(k.label(), v));
        return sorted.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }

    private static String fmt(double ms) {
        return String.format("%.0f", ms);
    }

    /**
     * Records the platform threads that appear while a crawl runs, by name, sampling every millisecond from its own
     * platform thread (virtual threads are not enumerable, and need not be: they are not OS threads). Threads alive
     * before the start are ignored. Not thread-safe: one owner starts and stops it.
     */
    static final class ThreadSampler implements AutoCloseable {

        /** The new platform threads seen, by kind. */
        record Seen(int pool, int carriers, int client, int other) {
            int total() {
                return pool + carriers + client + other;
            }

            String render() {
                return total() + " (" + (pool > 0 ? "pool " + pool + ", " : "") + "carriers " + carriers
                        + ", HttpClient " + client + ", crawler " + other + ")";
            }
        }

        private final Set<Thread> before;
        private final Set<Thread> seen = ConcurrentHashMap.newKeySet();
        private final Thread sampler;
        private volatile boolean running = true;

        private ThreadSampler() {
            this.before = Set.copyOf(live());
            this.sampler = Thread.ofPlatform().name("crawler-models-sampler").daemon(true).unstarted(this::sample);
        }

        static ThreadSampler start() {
            ThreadSampler s = new ThreadSampler();
            s.sampler.start();
            return s;
        }

        private static List<Thread> live() {
            ThreadGroup root = Thread.currentThread().getThreadGroup();
            while (root.getParent() != null) {
                root = root.getParent();
            }
            Thread[] threads = new Thread[root.activeCount() + 64];
            int count = root.enumerate(threads, true);
            return new ArrayList<>(java.util.Arrays.asList(threads).subList(0, count));
        }

        private void sample() {
            while (running) {
                for (Thread t : live()) {
                    if (!before.contains(t) && t != sampler) {
                        seen.add(t);
                    }
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        Seen stop() throws InterruptedException {
            running = false;
            sampler.join();
            int pool = 0;
            int carriers = 0;
            int client = 0;
            int other = 0;
            for (Thread t : seen) {
                String name = t.getName();
                if (name.startsWith("crawl-p-")) {
                    pool++;
                } else if (name.startsWith("ForkJoinPool") || name.contains("Carrier")) {
                    carriers++;
                } else if (name.startsWith("HttpClient") || name.startsWith("crawl-http-")) {
                    client++;
                } else {
                    other++;
                }
            }
            return new Seen(pool, carriers, client, other);
        }

        @Override
        public void close() throws InterruptedException {
            if (running) {
                stop();
            }
        }
    }
}
