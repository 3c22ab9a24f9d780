package dev.conclab.bench.crawl;

import dev.conclab.crawl.crawler.Crawl;
import dev.conclab.crawl.crawler.CrawlConfig;
import dev.conclab.crawl.crawler.CrawlSummary;
import dev.conclab.crawl.crawler.ModelKind;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The crawler's performance targets, measured against the local test site in this JVM (not JMH: each figure is one
 * whole crawl, the best of a few):
 * <ul>
 *   <li><b>site</b>: the test site alone under {@code wrk} (keep-alive, 2 threads, 128 connections), or under an
 *       in-JVM load generator (the async HTTP client, 128 in flight) when {@code wrk} is not installed — requests per
 *       second, target ≥ 50,000;</li>
 *   <li><b>latency crawl</b>: 10,000 pages at 50 ms latency, 100 in flight, per fetch model: wall time as a ratio to
 *       the ideal {@code pages × latency / concurrency} (target ≤ 1.05×) and the crawler's CPU per page (target
 *       ≤ 0.2 ms): the process's CPU time minus the site's event-loop threads' ({@link ThreadMXBean}), so parse,
 *       dedupe, politeness, the HTTP client and GC are all charged to the crawler;</li>
 *   <li><b>zero latency</b>, per fetch model: fetch-only pages per second (10,000 seeds at depth 0: requested, not
 *       parsed; target ≥ 10,000) and crawling pages per second (parse, normalize, dedupe, queue; target ≥ 6,000),
 *       site included on the same cores.</li>
 * </ul>
 * Every figure is printed with the load average before it was taken: on a shared machine the load says how much of
 * the two cores the run had. Not thread-safe; one run at a time.
 */
public final class CrawlBench {

    /** The sizes of one run. */
    public record Settings(int sitePages, int latencyPages, Duration latency, int concurrency, int zeroPages,
                           int rounds, Duration wrkDuration) {

        /** The figures: 10,000 pages, 50 ms, 100 in flight, 3 rounds, wrk for 5 s. */
        public static Settings full() {
            return new Settings(20_000, 10_000, Duration.ofMillis(50), 100, 10_000, 3, Duration.ofSeconds(5));
        }

        /** {@code --quick}: a rough run of a few seconds per figure. */
        public static Settings quick() {
            return new Settings(5_000, 2_000, Duration.ofMillis(50), 100, 3_000, 1, Duration.ofSeconds(2));
        }

        /** A smoke run: small and short. */
        public static Settings tiny() {
            return new Settings(400, 200, Duration.ofMillis(5), 20, 300, 1, Duration.ofSeconds(1));
        }
    }

    /** One measured figure, with the 1-minute load average read just before it. */
    public record Figure(String what, double value, String unit, double target, boolean higherIsBetter, double load,
                         String note) {
        public boolean met() {
            return higherIsBetter ? value >= target : value <= target;
        }
    }

    private CrawlBench() {}

    /** Runs every measurement of {@code s} and returns its figures in print order. */
    public static List<Figure> run(Settings s, PrintStream progress) throws Exception {
        List<Figure> figures = new ArrayList<>();
        figures.add(siteAlone(s, progress));
        progress.println("  warm-up (not counted):");
        for (ModelKind model : ModelKind.values()) {
            zeroLatency(s, model, true, progress); // JIT the crawler, the client and the site before measuring
        }
        for (ModelKind model : ModelKind.values()) {
            figures.addAll(latencyCrawl(s, model, progress));
        }
        for (ModelKind model : ModelKind.values()) {
            figures.add(zeroLatency(s, model, false, progress));
            figures.add(zeroLatency(s, model, true, progress));
        }
        return figures;
    }

    // ---------------------------------------------------------------- the site alone

    static Figure siteAlone(Settings s, PrintStream progress) throws Exception {
        try (TestSite site = TestSite.start(SiteConfig.of(s.sitePages()))) {
            double load = load();
            URI target = site.uri("/page/1");
            var wrk = wrk(target, s.wrkDuration());
            if (wrk != null) {
                progress.printf("  site under wrk: %,.0f req/s%n", wrk);
                return new Figure("site alone, wrk -t2 -c128", wrk, "req/s", 50_000, true, load, "");
            }
            double rate = inJvmLoad(target, s.wrkDuration(), 128);
            progress.printf("  site under the in-JVM generator: %,.0f req/s%n", rate);
            return new Figure("site alone, in-JVM load (wrk missing)", rate, "req/s", 50_000, true, load,
                    "generator shares the cores");
        }
    }

    private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");

    /** wrk's requests per second, or null when wrk is not installed. */
    static Double wrk(URI target, Duration d) throws IOException, InterruptedException {
        Path exe = Path.of("/usr/bin/wrk");
        if (!Files.isExecutable(exe)) {
            return null;
        }
        Process p = new ProcessBuilder(exe.toString(), "-t2", "-c128", "-d" + Math.max(1, d.toSeconds()) + "s",
                target.toString()).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(d.toSeconds() + 30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("wrk failed: " + out);
            }
            Matcher m = WRK_RATE.matcher(out);
            if (!m.find()) {
                throw new IOException("no Requests/sec in wrk's output: " + out);
            }
            return Double.parseDouble(m.group(1));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    /** Requests per second from the async client with {@code inFlight} outstanding, for {@code d}. */
    static double inJvmLoad(URI target, Duration d, int inFlight) throws InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpRequest request = HttpRequest.newBuilder(target).build();
            Semaphore slots = new Semaphore(inFlight);
            AtomicLong done = new AtomicLong();
            long end = System.nanoTime() + d.toNanos();
            long t0 = System.nanoTime();
            while (System.nanoTime() < end) {
                slots.acquire();
                client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                    done.incrementAndGet();
                    slots.release();
                });
            }
            slots.acquire(inFlight);
            return done.get() / ((System.nanoTime() - t0) / 1e9);
        }
    }

    // ---------------------------------------------------------------- crawls

    /** Wall time against the ideal, and the crawler's CPU per page, best of the rounds. */
    static List<Figure> latencyCrawl(Settings s, ModelKind model, PrintStream progress) throws Exception {
        SiteConfig siteConfig = SiteConfig.of(Math.max(s.sitePages(), s.latencyPages())).withLatency(s.latency(),
                Duration.ZERO);
        CrawlConfig config = benchConfig(model, s.concurrency(), s.latencyPages());
        double ideal = s.latencyPages() * (s.latency().toNanos() / 1e9) / s.concurrency();
        double bestRatio = Double.MAX_VALUE;
        double bestCpu = Double.MAX_VALUE;
        double load = load();
        for (int r = 0; r < s.rounds(); r++) {
            try (TestSite site = TestSite.start(siteConfig)) {
                Run run = crawl(site, config, List.of(site.uri("/page/0").toString()));
                if (run.summary().pages() < s.latencyPages()) {
                    throw new IllegalStateException("the crawl fetched only " + run.summary().pages() + " pages: "
                            + run.summary().render());
                }
                double ratio = run.summary().elapsed().toNanos() / 1e9 / ideal;
                double cpuMs = run.crawlerCpuNanos() / 1e6 / run.summary().pages();
                progress.printf("  %s, %d ms latency: %.2f s = %.3f× ideal, crawler CPU %.3f ms/page%n",
                        model.label(), s.latency().toMillis(), run.summary().elapsed().toNanos() / 1e9, ratio, cpuMs);
                bestRatio = Math.min(bestRatio, ratio);
                bestCpu = Math.min(bestCpu, cpuMs);
            }
        }
        String shape = String.format("%,d pages, %d ms, %d in flight", s.latencyPages(), s.latency().toMillis(),
                s.concurrency());
        return List.of(
                new Figure(model.label() + ": wall / ideal (" + shape + ")", bestRatio, "×", 1.05, false, load,
                        String.format("ideal %.2f s", ideal)),
                new Figure(model.label() + ": crawler CPU per page", bestCpu, "ms", 0.2, false, load, ""));
    }

    /** Pages per second at zero latency, fetch-only (seeds at depth 0) or crawling, best of the rounds. */
    static Figure zeroLatency(Settings s, ModelKind model, boolean crawling, PrintStream progress) throws Exception {
        SiteConfig siteConfig = SiteConfig.of(Math.max(s.sitePages(), s.zeroPages()));
        CrawlConfig config = benchConfig(model, s.concurrency(), s.zeroPages());
        double best = 0;
        double load = load();
        for (int r = 0; r < s.rounds(); r++) {
            try (TestSite site = TestSite.start(siteConfig)) {
                List<String> seeds = new ArrayList<>();
                if (crawling) {
                    seeds.add(site.uri("/page/0").toString());
                } else {
                    for (int i = 0; i < s.zeroPages(); i++) {
                        seeds.add(site.uri("/page/" + i).toString());
                    }
                }
                Run run = crawl(site, crawling ? config : config.withMaxDepth(0), seeds);
                double rate = run.summary().pagesPerSecond();
                progress.printf("  %s, zero latency, %s: %,d pages, %,.0f pages/s%n", model.label(),
                        crawling ? "crawling" : "fetch-only", run.summary().pages(), rate);
                best = Math.max(best, rate);
            }
        }
        return new Figure(model.label() + ": " + (crawling ? "crawling" : "fetch-only") + " at zero latency", best,
                "pages/s", crawling ? 6_000 : 10_000, true, load, "site in the same JVM");
    }

    static CrawlConfig benchConfig(ModelKind model, int concurrency, int pages) {
        return CrawlConfig.defaults().withModel(model).withConcurrency(concurrency).withPerHostRate(0)
                .withMaxPages(pages).withMaxDepth(1_000_000);
    }

    record Run(CrawlSummary summary, long crawlerCpuNanos) {}

    /** One crawl; the crawler's CPU is the process's minus the site's event-loop threads'. */
    static Run crawl(TestSite site, CrawlConfig config, List<String> seeds) throws Exception {
        long cpu0 = processCpuNanos();
        long site0 = siteCpuNanos();
        CrawlSummary summary;
        try (Crawl crawl = Crawl.start(config, seeds)) {
            summary = crawl.await(Duration.ofMinutes(5));
        }
        long cpu = processCpuNanos() - cpu0 - (siteCpuNanos() - site0);
        return new Run(summary, cpu);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time of the live site threads (named {@code test-site-N}). */
    private static long siteCpuNanos() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("test-site-")) {
                long ns = mx.getThreadCpuTime(t.threadId());
                sum += Math.max(0, ns);
            }
        }
        return sum;
    }

    /** The 1-minute load average, or -1 where the OS does not tell. */
    static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** The figures as a table, under the machine line. */
    public static void print(List<Figure> figures, String machine, PrintStream out) {
        out.println();
        out.println("Crawler against the local test site (CrawlBench; load = 1-min load average before each figure)");
        out.println("machine: " + machine);
        out.printf("%-58s %14s %-8s %10s %6s  %s%n", "figure", "value", "unit", "target", "load", "");
        for (Figure f : figures) {
            out.printf("%-58s %,14.3f %-8s %s%,9.3f %6.2f  %s%s%n", f.what(), f.value(), f.unit(),
                    f.higherIsBetter() ? "≥" : "≤", f.target(), f.load(), f.met() ? "met" : "NOT met",
                    f.note().isEmpty() ? "" : " (" + f.note() + ")");
        }
    }

    /** BenchMain's entry: the sizes, or {@link Settings#quick()}; the table goes to {@code out}. */
    public static void runAndPrint(boolean quick, String machine, PrintStream out) throws InterruptedException {
        try {
            print(run(quick ? Settings.quick() : Settings.full(), out), machine, out);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the crawl suite failed: " + e, e);
        }
    }

    /** Runs the suite with the sizes ({@code --quick}: the tiny ones) and prints the table. */
    public static void main(String[] args) throws Exception {
        runAndPrint(List.of(args).contains("--quick"), dev.conclab.bench.BenchMain.machine(), System.out);
    }
}
