package dev.conclab.lab.web;

import dev.conclab.crawl.crawler.Crawl;
import dev.conclab.crawl.crawler.CrawlConfig;
import dev.conclab.crawl.crawler.CrawlSummary;
import dev.conclab.crawl.crawler.ModelKind;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * The crawl page's run: starts a local {@link TestSite} on 127.0.0.1, port 0, for this run only, crawls it from
 * {@code /page/0} with the crawler's own {@link Crawl}, and closes the site when the crawl ends. The page budget is
 * twice the site's pages, so a crawl ends by running out of work (every page fetched, {@code stopped} false) rather
 * than at a budget reached while the last links are still being read. Never fetches
 * anything else: the crawler follows links to the seed's host only. Progress every {@link #INTERVAL}.
 * Stateless; thread-safe.
 */
final class CrawlSystemJob implements SystemJob {

    static final Duration INTERVAL = Duration.ofMillis(200);

    /** A progress event of a crawl. */
    record Progress(String phase, long pages, long pagesAsked, long requests, long errors, int inFlight, int queued,
                    long elapsedMs) {
    }

    /**
     * A crawl's summary: {@link CrawlSummary}'s fields, latency in milliseconds, errors by kind, and the address of
     * the site that was crawled (closed by now).
     */
    record Summary(String model, long pages, long pagesAsked, long requests, long retries, long throttled, long links,
                   Map<String, Long> errors, long errorCount, long elapsedMs, double pagesPerSecond, double p50Ms,
                   double p90Ms, double p99Ms, double maxMs, boolean stopped, String site) {

        static Summary of(CrawlSummary s, long asked, String site) {
            Map<String, Long> errors = new LinkedHashMap<>();
            s.errors().forEach((kind, n) -> errors.put(kind.label(), n));
            return new Summary(s.model().label(), s.pages(), asked, s.requests(), s.retries(), s.throttled(),
                    s.links(), errors, s.errorCount(), s.elapsed().toMillis(), s.pagesPerSecond(),
                    s.p50Micros() / 1e3, s.p90Micros() / 1e3, s.p99Micros() / 1e3, s.maxMicros() / 1e3, s.stopped(),
                    site);
        }
    }

    @Override
    public String key() {
        return "crawl";
    }

    @Override
    public List<SystemParam> params() {
        return List.of(
                SystemParam.integer("pages", "Pages of the local test site (all are crawled)", 10, 5000, 500),
                SystemParam.integer("latency-ms", "Latency the site adds to each page, ms", 0, 200, 5),
                SystemParam.number("error-rate", "Share of page requests answered 503 (retried)", 0, 0.5, 0),
                SystemParam.integer("concurrency", "Fetches in flight at most", 1, 256, 32),
                SystemParam.number("per-host-rate", "Requests per second to the host, 0 = no limit", 0, 1000, 0),
                SystemParam.choice("model", "Fetch model", List.of("platform", "virtual", "async"), "virtual"));
    }

    @Override
    public Object run(Map<String, Object> values, Set<String> switches, SystemRun run) throws InterruptedException {
        int pages = (Integer) values.get("pages");
        SiteConfig siteConfig = SiteConfig.of(pages).withPort(0)
                .withLatency(Duration.ofMillis((Integer) values.get("latency-ms")), Duration.ZERO)
                .withErrorRate((Double) values.get("error-rate"));
        CrawlConfig config = CrawlConfig.defaults().withConcurrency((Integer) values.get("concurrency"))
                .withPerHostRate((Double) values.get("per-host-rate")).withMaxPages(pages * 2).withMaxDepth(pages)
                .withModel(ModelKind.parse((String) values.get("model")));
        try (TestSite site = TestSite.start(siteConfig)) {
            String address = site.uri("/").toString();
            Crawl crawl = Crawl.start(config, List.of(site.uri("/page/0").toString()));
            CrawlSummary summary;
            try {
                summary = awaitWithProgress(crawl, pages, run);
            } catch (InterruptedException stop) {
                crawl.cancel();
                summary = awaitUninterruptibly(crawl);
            }
            publish(run, "done", crawl.progress(), pages);
            return Summary.of(summary, pages, address);
        }
    }

    private static CrawlSummary awaitWithProgress(Crawl crawl, int pages, SystemRun run) throws InterruptedException {
        while (true) {
            try {
                return crawl.await(INTERVAL);
            } catch (TimeoutException stillGoing) {
                publish(run, "crawling", crawl.progress(), pages);
            }
        }
    }

    private static CrawlSummary awaitUninterruptibly(Crawl crawl) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return crawl.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void publish(SystemRun run, String phase, Crawl.Progress p, int pages) {
        run.progress(new Progress(phase, p.pages(), pages, p.requests(), p.errors(), p.inFlight(), p.queued(),
                p.elapsed().toMillis()));
    }
}
