package dev.conclab.crawl.crawler;

import dev.conclab.crawl.site.RequestLog;
import dev.conclab.crawl.site.SiteConfig;
import dev.conclab.crawl.site.TestSite;
import dev.conclab.toolkit.ratelimit.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Politeness seen from the site: in every one-second window the site receives at most {@code rate × 1 s + burst}
 * requests. The limiter's waits run on a ticker that oversleeps twice on purpose (a late thread, as on a loaded
 * machine, made certain): the toolkit limiter with its send-time gate keeps the bound anyway; the old design, which
 * reserves slots ahead and sends when its sleep ends, lets the late senders bunch with the punctual ones and breaks it
 * on every run.
 */
class PolitenessTest {

    private static final double RATE = 20;          // 50 ms between requests: far above loopback delivery jitter
    private static final int PAGES = 40;
    private static final long INTERVAL = (long) (1e9 / RATE);

    private TestSite site;

    @AfterEach
    void stopSite() {
        if (site != null) {
            site.close();
        }
    }

    /** System time; the 4th and 7th waits that park overshoot by four intervals. */
    static final class LateTicker implements Ticker {
        private final AtomicInteger parks = new AtomicInteger();
        private final Set<Integer> late = Set.of(4, 7);

        @Override
        public long read() {
            return System.nanoTime();
        }

        @Override
        public void parkNanos(Object blocker, long nanos) {
            LockSupport.parkNanos(blocker, late.contains(parks.incrementAndGet()) ? nanos + 4 * INTERVAL : nanos);
        }

        int parks() {
            return parks.get();
        }
    }

    /** Broken: the old IntervalHostLimiter's design — reserve the next slot, sleep until it, send. */
    static final class ReserveAheadLimiter implements HostRateLimiter {
        private final Ticker ticker;
        private final ConcurrentHashMap<String, long[]> next = new ConcurrentHashMap<>();

        ReserveAheadLimiter(Ticker ticker) {
            this.ticker = ticker;
        }

        @Override
        public void acquire(String host) throws InterruptedException {
            long[] slot = next.computeIfAbsent(host, h -> new long[1]);
            long at;
            synchronized (slot) {
                at = Math.max(ticker.read(), slot[0]);
                slot[0] = at + INTERVAL;
            }
            for (long w; (w = at - ticker.read()) > 0; ) {
                ticker.parkNanos(this, w);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        }

        @Override
        public CompletableFuture<Void> acquireAsync(String host) {
            throw new UnsupportedOperationException("used with the virtual-thread model only");
        }

        @Override
        public void pause(String host, long nanos) {
        }
    }

    private List<RequestLog.Hit> crawlWith(HostRateLimiter limiter, ModelKind model) throws Exception {
        site = TestSite.start(SiteConfig.of(1000).withRecordRequests(true));
        CrawlConfig config = CrawlConfig.defaults().withModel(model).withConcurrency(16).withPerHostRate(RATE)
                .withMaxPages(PAGES).withMaxDepth(1000);
        try (Crawl crawl = Crawl.start(config, limiter, List.of(site.uri("/page/0").toString()))) {
            assertThat(crawl.await(Duration.ofSeconds(60)).pages()).isEqualTo(PAGES);
        }
        return site.log().hits();
    }

    /** The most requests the site received in any window [t, t + 1 s) starting at a request. */
    static int busiestSecond(List<RequestLog.Hit> hits) {
        int most = 0;
        for (int i = 0, j = 0; i < hits.size(); i++) {
            while (j < hits.size() && hits.get(j).nanos() < hits.get(i).nanos() + 1_000_000_000L) {
                j++;
            }
            most = Math.max(most, j - i);
        }
        return most;
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"VIRTUAL", "ASYNC"})
    void perHostRateIsNeverExceededAtTheSite(ModelKind model) throws Exception {
        LateTicker ticker = new LateTicker();
        List<RequestLog.Hit> hits = crawlWith(new TokenBucketHostLimiter(RATE, 1, ticker), model);
        assertThat(ticker.parks()).as("the oversleeps happened").isGreaterThanOrEqualTo(7);
        assertThat(hits).hasSizeGreaterThanOrEqualTo(PAGES + 1); // robots.txt too
        assertThat(busiestSecond(hits)).as("requests in the busiest second at %s/s, burst 1", RATE)
                .isLessThanOrEqualTo((int) RATE + 1);
        long span = hits.getLast().nanos() - hits.getFirst().nanos();
        assertThat(span).as("%d requests strictly spaced take (n − 1) intervals", hits.size())
                .isGreaterThanOrEqualTo((hits.size() - 1) * INTERVAL - 10_000_000L);
    }

    @Test
    void brokenReserveAheadLimiterBunchesLateSendersAndExceedsTheRate() throws Exception {
        LateTicker ticker = new LateTicker();
        List<RequestLog.Hit> hits = crawlWith(new ReserveAheadLimiter(ticker), ModelKind.VIRTUAL);
        assertThat(ticker.parks()).isGreaterThanOrEqualTo(7);
        assertThat(busiestSecond(hits)).as("the check catches the broken design").isGreaterThan((int) RATE + 1);
    }
}
