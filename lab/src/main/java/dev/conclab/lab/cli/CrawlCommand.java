package dev.conclab.lab.cli;

import dev.conclab.crawl.crawler.Crawl;
import dev.conclab.crawl.crawler.CrawlConfig;
import dev.conclab.crawl.crawler.CrawlSummary;
import dev.conclab.crawl.crawler.HostRateLimiter;
import dev.conclab.crawl.crawler.ModelKind;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code conclab crawl URL [options]} crawls from URL and prints progress and a summary;
 * {@code conclab crawl site [options]} starts the local test site and keeps it up until Ctrl-C.
 */
@Command(name = "crawl", subcommands = CrawlCommand.SiteCommand.class,
        description = {"Crawl from URL with bounded concurrency and per-host politeness, then print a summary.",
                "  ./conclab crawl site --pages 10000 --latency 50     start the local test site",
                "  ./conclab crawl http://127.0.0.1:PORT/ --concurrency 100 --per-host-rate 0 --max-pages 10000"})
final class CrawlCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "URL", description = "Where to start (http or https).")
    String url;

    @Option(names = "--concurrency", defaultValue = "16", description = "Fetches in flight at most (default 16).")
    int concurrency;

    @Option(names = "--per-host-rate", defaultValue = "10",
            description = "Requests per second to one host, 0 for no limit (default 10).")
    double perHostRate;

    @Option(names = "--per-host-burst", defaultValue = "1",
            description = "Requests one host may get at once after an idle spell (default 1: strictly spaced).")
    int perHostBurst;

    @Option(names = "--max-pages", defaultValue = "1000", description = "Pages to fetch at most (default 1000).")
    int maxPages;

    @Option(names = "--depth", defaultValue = "5", description = "Link hops from URL at most (default 5).")
    int depth;

    @Option(names = "--model", defaultValue = "virtual", description = "platform, virtual or async (default virtual).")
    String model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (url == null) {
            throw new UsageError("crawl needs a URL or 'site' (see: conclab crawl --help)");
        }
        CrawlConfig config;
        try {
            config = CrawlConfig.defaults().withConcurrency(concurrency).withPerHostRate(perHostRate)
                    .withMaxPages(maxPages).withMaxDepth(depth).withModel(ModelKind.parse(model));
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        Crawl crawl;
        try {
            crawl = Crawl.start(config, HostRateLimiter.perHost(perHostRate, perHostBurst), List.of(url));
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
        Thread stopOnCtrlC = new Thread(crawl::stop, "crawl-stop");
        Runtime.getRuntime().addShutdownHook(stopOnCtrlC);
        try {
            CrawlSummary summary;
            while (true) {
                try {
                    summary = crawl.await(Duration.ofSeconds(1));
                    break;
                } catch (java.util.concurrent.TimeoutException progress) {
                    Crawl.Progress p = crawl.progress();
                    out.printf("%6.1f s  %,d pages  %,d requests  %,d errors  %d in flight  %,d queued%n",
                            p.elapsed().toMillis() / 1e3, p.pages(), p.requests(), p.errors(), p.inFlight(),
                            p.queued());
                    out.flush();
                }
            }
            out.print(summary.render());
            out.flush();
            return Main.OK;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnCtrlC);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it stops the crawl
            }
        }
    }

    /** {@code conclab crawl site}: the local test site, standing until Ctrl-C. */
    @Command(name = "site", description = "Start the local test site on loopback (Ctrl-C stops it).")
    static final class SiteCommand implements Callable<Integer> {

        @Option(names = "--pages", defaultValue = "1000", description = "Linked pages (default 1000).")
        int pages;

        @Option(names = "--latency", defaultValue = "0", paramLabel = "MS", description = "Added latency, ms.")
        long latencyMs;

        @Option(names = "--jitter", defaultValue = "0", paramLabel = "MS", description = "Random extra latency, ms.")
        long jitterMs;

        @Option(names = "--error-rate", defaultValue = "0", paramLabel = "P",
                description = "Probability of a 503 per page request, 0..1.")
        double errorRate;

        @Option(names = "--port", defaultValue = "8080", description = "Port on 127.0.0.1 (default 8080, 0 = any).")
        int port;

        @Option(names = "--rate-limit", defaultValue = "0", paramLabel = "R",
                description = "Requests per second per client before 429 (default 0 = none).")
        int rateLimit;

        @Option(names = "--traps", description = "Link the bad inputs (loops, huge, binary, malformed...).")
        boolean traps;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            if (latencyMs < 0 || latencyMs > 3_600_000) {
                throw new UsageError("--latency must be in 0..3600000 ms, got " + latencyMs);
            }
            if (jitterMs < 0 || jitterMs > 3_600_000) {
                throw new UsageError("--jitter must be in 0..3600000 ms, got " + jitterMs);
            }
            SiteConfig config;
            try {
                config = SiteConfig.of(pages).withLatency(Duration.ofMillis(latencyMs), Duration.ofMillis(jitterMs))
                        .withErrorRate(errorRate).withPort(port).withRateLimit(rateLimit, 1).withTraps(traps);
            } catch (IllegalArgumentException e) {
                throw new UsageError("crawl site: " + e.getMessage());
            }
            TestSite site;
            try {
                site = TestSite.start(config);
            } catch (IllegalStateException e) {
                throw new UsageError(e.getMessage());
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                site.close();
                stopped.countDown();
            }, "site-stop"));
            PrintWriter out = spec.commandLine().getOut();
            out.printf("test site: %s  (%,d pages, latency %d ms + up to %d ms, error rate %s)  Ctrl-C stops it%n",
                    site.uri("/page/0"), pages, latencyMs, jitterMs, errorRate);
            out.flush();
            stopped.await();
            return Main.OK;
        }
    }
}
