package dev.conclab.crawl.crawler;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The crawler's pure parts: URL normalization, robots.txt rules, config validation, seeds. */
class UnitsTest {

    private static final URI BASE = URI.create("http://example.com/dir/page.html");

    private static Object norm(String href) {
        return switch (UrlNormalizer.normalize(BASE, href)) {
            case UrlNormalizer.Ok ok -> ok.uri().toString();
            case UrlNormalizer.Rejected r -> r.kind();
        };
    }

    @ParameterizedTest
    @CsvSource({
            "other.html,                             http://example.com/dir/other.html",
            "../up.html,                             http://example.com/up.html",
            "/a/./b/../c,                            http://example.com/a/c",
            "/../../x,                               http://example.com/x",
            "HTTP://EXAMPLE.COM:80/p#frag,           http://example.com/p",
            "https://Example.com:443,                https://example.com/",
            "http://example.com:8080/p,              http://example.com:8080/p",
            "/p?b=2&a=1&utm_source=x,                http://example.com/p?a=1&b=2",
            "/p?utm_medium=y,                        http://example.com/p",
            "'  /p  ',                               http://example.com/p",
    })
    void normalizesSpellingsOfOneUrlToOneKey(String href, String expected) {
        assertThat(norm(href)).isEqualTo(expected);
    }

    @Test
    void rejectsBadLinksByKind() {
        assertThat(norm("mailto:a@b.c")).isEqualTo(ErrorKind.UNSUPPORTED_SCHEME);
        assertThat(norm("javascript:void(0)")).isEqualTo(ErrorKind.UNSUPPORTED_SCHEME);
        assertThat(norm("ftp://example.com/f")).isEqualTo(ErrorKind.UNSUPPORTED_SCHEME);
        assertThat(norm("http://[::1:bad/")).isEqualTo(ErrorKind.MALFORMED_URL);
        assertThat(norm("   ")).isEqualTo(ErrorKind.MALFORMED_URL);
        assertThat(UrlNormalizer.normalize(null, "relative/only")).isInstanceOf(UrlNormalizer.Rejected.class);
        assertThat(UrlNormalizer.hostKey(URI.create("http://h:81/p"))).isEqualTo("http://h:81");
        assertThat(UrlNormalizer.hostKey(URI.create("https://h/p"))).isEqualTo("https://h");
    }

    @Test
    void robotsPicksTheAgentGroupAndTheLongestMatch() {
        String txt = """
                # comment
                User-agent: *
                Disallow: /private/
                Disallow: /tmp

                User-agent: other-bot
                User-agent: conclab-crawler
                Disallow: /
                Allow: /public/
                Allow: /public/x$
                """;
        Robots mine = Robots.parse(txt, "conclab-crawler/0.1");
        assertThat(mine.allows("/public/page")).isTrue();
        assertThat(mine.allows("/private/1")).isFalse();
        assertThat(mine.allows("/")).isFalse();
        Robots star = Robots.parse(txt, "someone-else");
        assertThat(star.allows("/private/1")).isFalse();
        assertThat(star.allows("/tmpfile")).isFalse();
        assertThat(star.allows("/page/1")).isTrue();
        assertThat(Robots.parse("User-agent: *\nDisallow:\n", "x").allows("/anything")).isTrue();
        assertThat(Robots.parse("User-agent: *\nDisallow: /a\nAllow: /a\n", "x").allows("/a/b"))
                .as("Allow wins a tie").isTrue();
        assertThat(Robots.parse("garbage\n::\nno colon", "x").allows("/")).isTrue();
        assertThat(Robots.ALLOW_ALL.allows("/x")).isTrue();
        assertThat(Robots.DISALLOW_ALL.allows("/x")).isFalse();
    }

    @Test
    void configRejectsBadValuesNamingThem() {
        CrawlConfig d = CrawlConfig.defaults();
        assertThatThrownBy(() -> d.withConcurrency(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("concurrency").hasMessageContaining("got 0");
        assertThatThrownBy(() -> d.withPerHostRate(-1)).hasMessageContaining("per-host rate");
        assertThatThrownBy(() -> d.withPerHostRate(Double.NaN)).hasMessageContaining("per-host rate");
        assertThatThrownBy(() -> d.withMaxPages(0)).hasMessageContaining("max pages");
        assertThatThrownBy(() -> d.withMaxDepth(-1)).hasMessageContaining("depth");
        assertThatThrownBy(() -> d.withMaxBodyBytes(10)).hasMessageContaining("max body");
        assertThatThrownBy(() -> d.withMaxRedirects(101)).hasMessageContaining("max redirects");
        assertThatThrownBy(() -> d.withTimeouts(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("connect timeout");
        assertThatThrownBy(() -> d.withRetries(-1, 0, Duration.ofMillis(1), Duration.ofMillis(1)))
                .hasMessageContaining("max retries");
        assertThatThrownBy(() -> d.withModel(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("model");
        assertThatThrownBy(() -> ModelKind.parse("green")).hasMessageContaining("platform, virtual or async")
                .hasMessageContaining("green");
        assertThat(d.withMaxRedirects(0).maxRedirects()).isZero();
    }

    @Test
    void startNamesTheBadSeedsWhenNoneIsValid() {
        assertThatThrownBy(() -> Crawl.start(CrawlConfig.defaults(), List.of("ftp://x/", "not a url")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://x/")
                .hasMessageContaining("not a url");
        assertThatThrownBy(() -> HostRateLimiter.perHost(-1, 1)).hasMessageContaining("per-host rate");
        assertThatThrownBy(() -> HostRateLimiter.perHost(10, 0)).hasMessageContaining("burst");
    }
}
