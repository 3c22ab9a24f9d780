package dev.conclab.crawl.site;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The test site on its own: routes, latency, 429, robots.txt, config validation, and a clean close. */
class TestSiteTest {

    private TestSite site;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @AfterEach
    void close() {
        client.close();
        if (site != null) {
            site.close();
        }
    }

    private HttpResponse<byte[]> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(site.uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private String body(String path) throws Exception {
        return new String(get(path).body());
    }

    @Test
    void servesEveryRouteAsDocumented() throws Exception {
        site = TestSite.start(SiteConfig.of(20).withTraps(true).withHugeBytes(100_000));
        assertThat(get("/").statusCode()).isEqualTo(301);
        assertThat(get("/").headers().firstValue("location")).hasValue("/page/0");
        var page = get("/page/3");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type").orElseThrow()).startsWith("text/html");
        assertThat(body("/page/3")).contains("<h1>Page 3</h1>");
        for (int j : site.layout().links(3)) {
            assertThat(body("/page/3")).contains("page " + j + "</a>");
        }
        assertThat(body("/page/10")).contains("/loop/10/a", "mailto:", "/private/10").as("trap page");
        assertThat(body("/page/3")).doesNotContain("mailto:");
        assertThat(get("/page/20").statusCode()).as("past the last page").isEqualTo(404);
        assertThat(get("/page/x").statusCode()).isEqualTo(404);
        assertThat(get("/nowhere/1").statusCode()).isEqualTo(404);
        assertThat(get("/redirect/7").headers().firstValue("location")).hasValue("/page/7");
        assertThat(get("/loop/2/a").headers().firstValue("location")).hasValue("/loop/2/b");
        assertThat(get("/loop/2/b").headers().firstValue("location")).hasValue("/loop/2/a");
        assertThat(get("/chain/2").headers().firstValue("location")).hasValue("/chain/1");
        assertThat(get("/chain/0").headers().firstValue("location")).hasValue("/page/0");
        assertThat(get("/huge/1").body()).hasSize(100_000);
        assertThat(get("/binary/1").headers().firstValue("content-type")).hasValue("application/octet-stream");
        assertThat(List.of(get("/flaky/4").statusCode(), get("/flaky/4").statusCode(), get("/flaky/4").statusCode()))
                .containsExactly(503, 503, 200);
        assertThat(body("/robots.txt")).contains("User-agent: *").contains("Disallow: " + SiteLayout.DISALLOWED);
        assertThat(site.served()).isPositive();
    }

    @Test
    void latencyIsScheduledNotSerialized() throws Exception {
        site = TestSite.start(SiteConfig.of(100).withLatency(Duration.ofMillis(200), Duration.ZERO).withIoThreads(1));
        try (HttpClient many = HttpClient.newHttpClient()) {
            long t0 = System.nanoTime();
            List<CompletableFuture<HttpResponse<Void>>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(many.sendAsync(HttpRequest.newBuilder(site.uri("/page/" + i)).build(),
                        HttpResponse.BodyHandlers.discarding()));
            }
            for (var f : all) {
                long one = System.nanoTime();
                assertThat(f.get().statusCode()).isEqualTo(200);
            }
            long elapsed = System.nanoTime() - t0;
            assertThat(Duration.ofNanos(elapsed)).as("50 requests of 200 ms on one event loop overlap")
                    .isBetween(Duration.ofMillis(200), Duration.ofMillis(2_000));
        }
        long t = System.nanoTime();
        assertThat(get("/page/1").statusCode()).isEqualTo(200);
        assertThat(System.nanoTime() - t).as("each response waits its latency").isGreaterThanOrEqualTo(200_000_000L);
    }

    @Test
    void rateLimitAnswers429WithRetryAfter() throws Exception {
        site = TestSite.start(SiteConfig.of(10).withRateLimit(5, 7));
        List<Integer> codes = new ArrayList<>();
        HttpResponse<byte[]> refused = null;
        for (int i = 0; i < 8; i++) {
            var r = get("/page/1");
            codes.add(r.statusCode());
            if (r.statusCode() == 429) {
                refused = r;
            }
        }
        assertThat(codes.subList(0, 5)).as("a burst of the rate is allowed").containsOnly(200);
        assertThat(codes).contains(429);
        assertThat(refused.headers().firstValue("retry-after")).hasValue("7");
    }

    @Test
    void sameSeedSameSiteAndFaultsAtTheConfiguredRate() throws Exception {
        SiteLayout a = new SiteLayout(SiteConfig.of(1000).withSeed(7));
        SiteLayout b = new SiteLayout(SiteConfig.of(1000).withSeed(7));
        assertThat(a.page(123)).isEqualTo(b.page(123));
        assertThat(a.links(5).getFirst()).as("every page links to the next").isEqualTo(6);
        site = TestSite.start(SiteConfig.of(10).withErrorRate(1.0));
        assertThat(get("/page/1").statusCode()).isEqualTo(503);
    }

    @Test
    void configValidationNamesTheBadValue() {
        SiteConfig c = SiteConfig.of(10);
        assertThatThrownBy(() -> SiteConfig.of(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pages must be in 1..").hasMessageContaining("got 0");
        assertThatThrownBy(() -> c.withErrorRate(1.5)).hasMessageContaining("error rate").hasMessageContaining("1.5");
        assertThatThrownBy(() -> c.withLatency(Duration.ofMillis(-1), Duration.ZERO)).hasMessageContaining("latency");
        assertThatThrownBy(() -> c.withSlow(-0.1, Duration.ZERO)).hasMessageContaining("slow rate");
        assertThatThrownBy(() -> c.withRateLimit(-1, 1)).hasMessageContaining("rate limit");
        assertThatThrownBy(() -> c.withRateLimit(1, 4000)).hasMessageContaining("Retry-After");
        assertThatThrownBy(() -> c.withPort(70000)).hasMessageContaining("port");
        assertThatThrownBy(() -> c.withIoThreads(0)).hasMessageContaining("io threads");
        assertThatThrownBy(() -> c.withHugeBytes(10)).hasMessageContaining("huge page size");
    }

    @Test
    void startOnABusyPortFailsClearly() {
        site = TestSite.start(SiteConfig.of(10));
        assertThatThrownBy(() -> TestSite.start(SiteConfig.of(10).withPort(site.port())))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("port " + site.port());
    }

    @Test
    void closeLeavesNoThreadBehind() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        try (TestSite s = TestSite.start(SiteConfig.of(10))) {
            assertThat(client.send(HttpRequest.newBuilder(URI.create(s.uri("/page/1").toString())).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
        }
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && !t.getName().startsWith("HttpClient"))
                .map(Thread::getName).toList();
        assertThat(left).as("threads started by the site and still alive").isEmpty();
    }
}
