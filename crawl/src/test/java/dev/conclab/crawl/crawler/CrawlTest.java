package dev.conclab.crawl.crawler;

import dev.conclab.crawl.site.RequestLog;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The crawler against the local test site; every test closes its site and crawl. */
class CrawlTest {

    private TestSite site;

    @AfterEach
    void stopSite() {
        if (site != null) {
            site.close();
        }
    }

    private static CrawlConfig fast(ModelKind model) {
        return CrawlConfig.defaults().withModel(model).withConcurrency(8).withMaxPages(100_000).withMaxDepth(1000)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(300))
                .withRetries(3, 3, Duration.ofMillis(5), Duration.ofMillis(40));
    }

    private CrawlSummary crawl(CrawlConfig config, String path) throws Exception {
        try (Crawl crawl = Crawl.start(config, List.of(site.uri(path).toString()))) {
            return crawl.await(Duration.ofSeconds(60));
        }
    }

    /** The pages within {@code depth} hops of page 0 on the site's own link graph. */
    private Set<Integer> reachable(int depth) {
        Set<Integer> seen = new HashSet<>(List.of(0));
        ArrayDeque<int[]> queue = new ArrayDeque<>(List.<int[]>of(new int[]{0, 0}));
        while (!queue.isEmpty()) {
            int[] at = queue.poll();
            if (at[1] == depth) {
                continue;
            }
            for (int j : site.layout().links(at[0])) {
                if (seen.add(j)) {
                    queue.add(new int[]{j, at[1] + 1});
                }
            }
        }
        return seen;
    }

    private Set<URI> pageUris(Set<Integer> pages) {
        return pages.stream().map(i -> site.uri("/page/" + i)).collect(Collectors.toSet());
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void everyModelFetchesEveryPageExactlyOnce(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(300).withRecordRequests(true));
        CrawlSummary summary = crawl(fast(model), "/page/0");
        assertThat(summary.fetched()).isEqualTo(pageUris(reachable(Integer.MAX_VALUE)));
        Map<String, Long> perPath = site.log().hits().stream()
                .collect(Collectors.groupingBy(RequestLog.Hit::path, Collectors.counting()));
        assertThat(perPath).allSatisfy((path, n) -> assertThat(n).as(path).isEqualTo(1L));
        assertThat(summary.errors()).isEmpty();
    }

    @Test
    void depthLimitIsExactWithOneInFlightAndNeverExceededWithMany() throws Exception {
        site = TestSite.start(SiteConfig.of(2000));
        CrawlSummary one = crawl(fast(ModelKind.VIRTUAL).withConcurrency(1).withMaxDepth(2), "/page/0");
        assertThat(one.fetched()).isEqualTo(pageUris(reachable(2)));
        CrawlSummary many = crawl(fast(ModelKind.ASYNC).withConcurrency(16).withMaxDepth(2), "/page/0");
        assertThat(pageUris(reachable(2))).containsAll(many.fetched());
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void retriesFlakyPagesAndCountsEveryBadInputWithoutCrashing(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(30).withTraps(true).withHugeBytes(2 << 20)
                .withSlow(0, Duration.ofSeconds(1)).withRecordRequests(true));
        CrawlSummary s = crawl(fast(model).withMaxBodyBytes(1 << 20), "/page/0");
        // Every page is reached, and each flaky page after its 503s (retried with back-off).
        assertThat(s.fetched()).containsAll(pageUris(reachable(Integer.MAX_VALUE)));
        assertThat(s.fetched()).contains(site.uri("/flaky/0"), site.uri("/flaky/10"), site.uri("/flaky/20"));
        assertThat(site.log().count("/flaky/0")).isEqualTo(3);
        assertThat(s.retries()).isGreaterThanOrEqualTo(6);
        Map<ErrorKind, Long> e = s.errors();
        assertThat(e).containsKeys(ErrorKind.MALFORMED_URL, ErrorKind.UNSUPPORTED_SCHEME, ErrorKind.EXTERNAL_HOST,
                ErrorKind.ROBOTS_DISALLOWED, ErrorKind.HTTP_4XX, ErrorKind.REDIRECT_LOOP,
                ErrorKind.TOO_MANY_REDIRECTS, ErrorKind.TOO_LARGE, ErrorKind.NOT_HTML, ErrorKind.TIMEOUT);
        assertThat(e.get(ErrorKind.REDIRECT_LOOP)).isEqualTo(3);
        // robots.txt is obeyed: nothing under /private/ was requested.
        assertThat(site.log().hits()).noneMatch(h -> h.path().startsWith("/private/"));
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void honoursRetryAfterOn429(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(40).withRateLimit(20, 1).withRecordRequests(true));
        CrawlSummary s = crawl(fast(model).withConcurrency(8).withRetries(3, 5, Duration.ofMillis(5),
                Duration.ofMillis(40)), "/page/0");
        assertThat(s.fetched()).isEqualTo(pageUris(reachable(Integer.MAX_VALUE)));
        assertThat(s.throttled()).isPositive();
        // After each 429 the client waited its Retry-After (1 s) before asking that host again. Requests already sent
        // when the 429 left the site may still arrive just after it (more so on a loaded machine): the window checked
        // starts 250 ms after the 429; a client ignoring Retry-After retries within its 5-40 ms back-off.
        List<RequestLog.Hit> hits = site.log().hits();
        for (int i = 0; i < hits.size(); i++) {
            if (hits.get(i).status() == 429) {
                long at = hits.get(i).nanos();
                assertThat(hits.stream().filter(h -> h.nanos() > at + 250_000_000L
                        && h.nanos() < at + 950_000_000L)).as("requests within the Retry-After of a 429").isEmpty();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void cancelStopsMidCrawlAndLeavesNoThread(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(5000).withLatency(Duration.ofMillis(20), Duration.ZERO));
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        Crawl crawl = Crawl.start(fast(model).withConcurrency(8), List.of(site.uri("/page/0").toString()));
        while (crawl.progress().pages() < 20) {
            Thread.sleep(5);
        }
        crawl.cancel();
        CrawlSummary s = crawl.await(Duration.ofSeconds(10));
        crawl.close();
        assertThat(s.stopped()).isTrue();
        assertThat(s.pages()).isBetween(20L, 1000L);
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && (t.getName().startsWith("crawl")
                        || t.getName().startsWith("HttpClient")))
                .map(Thread::getName).toList();
        assertThat(left).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void redirectLimitCountsLongerChainsAndFollowsShorterOnes(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(5).withRecordRequests(true));
        // /chain/3 is 4 hops to /page/0: over a limit of 3, within a limit of 4.
        CrawlSummary over = crawl(fast(model).withMaxRedirects(3).withMaxDepth(0), "/chain/3");
        assertThat(over.errors()).containsEntry(ErrorKind.TOO_MANY_REDIRECTS, 1L);
        assertThat(over.pages()).isZero();
        assertThat(site.log().count("/page/0")).as("the 4th hop is never requested").isZero();
        CrawlSummary within = crawl(fast(model).withMaxRedirects(4).withMaxDepth(0), "/chain/3");
        assertThat(within.errors()).isEmpty();
        assertThat(within.fetched()).containsExactly(site.uri("/page/0"));
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void bodyCapRejectsLargerPagesAndKeepsSmallerOnes(ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(5).withHugeBytes(64 << 10));
        CrawlSummary capped = crawl(fast(model).withMaxBodyBytes(32 << 10).withMaxDepth(0), "/huge/1");
        assertThat(capped.errors()).containsEntry(ErrorKind.TOO_LARGE, 1L);
        assertThat(capped.pages()).isZero();
        CrawlSummary fits = crawl(fast(model).withMaxBodyBytes(64 << 10).withMaxDepth(0), "/huge/1");
        assertThat(fits.errors()).isEmpty();
        assertThat(fits.pages()).isOne();
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void gracefulStopFinishesWhatIsInFlightWhileCancelAbortsIt(ModelKind model) throws Exception {
        // Every page takes 300 ms: stop() or cancel() lands while at least 4 requests wait at the site.
        site = TestSite.start(SiteConfig.of(5000).withLatency(Duration.ofMillis(300), Duration.ZERO)
                .withRecordRequests(true));
        CrawlConfig config = fast(model).withConcurrency(8).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5));

        Crawl stopped = Crawl.start(config, List.of(site.uri("/page/0").toString()));
        awaitAtTheSite(stopped, 4);
        stopped.stop();
        CrawlSummary graceful = stopped.await(Duration.ofSeconds(20));
        stopped.close();
        assertThat(graceful.stopped()).isTrue();
        assertThat(graceful.errors()).as("a graceful stop lets in-flight fetches finish").isEmpty();
        long requested = site.log().hits().stream().filter(h -> h.path().startsWith("/page/")).count();
        assertThat(graceful.pages()).as("every page requested was fetched").isEqualTo(requested);

        site.log().clear();
        Crawl cancelled = Crawl.start(config, List.of(site.uri("/page/0").toString()));
        awaitAtTheSite(cancelled, 4);
        cancelled.cancel();
        CrawlSummary aborted = cancelled.await(Duration.ofSeconds(20));
        cancelled.close();
        assertThat(aborted.stopped()).isTrue();
        long asked = site.log().hits().stream().filter(h -> h.path().startsWith("/page/")).count();
        assertThat(aborted.pages()).as("in-flight pages were abandoned").isLessThan(asked);
    }

    /** Waits until at least {@code n} page requests have reached the site and are not answered yet. */
    private void awaitAtTheSite(Crawl crawl, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (site.log().hits().stream().filter(h -> h.path().startsWith("/page/")).count()
                - crawl.progress().pages() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never had " + n + " requests at the site: " + crawl.progress());
            }
            Thread.sleep(2);
        }
    }
}
