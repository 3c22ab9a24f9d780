package dev.conclab.crawl.crawler;

import dev.conclab.toolkit.ratelimit.Ticker;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Exact admissions of the host limiter on a fake clock whose time moves only when a waiter parks. */
class TokenBucketHostLimiterTest {

    /** Parking advances the fake time by the wait (nobody really sleeps). */
    static final class FakeTicker implements Ticker {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long read() {
            return now.get();
        }

        @Override
        public void parkNanos(Object blocker, long nanos) {
            now.addAndGet(nanos);
        }
    }

    private static List<Long> admissions(HostRateLimiter limiter, FakeTicker ticker, String host, int n)
            throws InterruptedException {
        List<Long> at = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            limiter.acquire(host);
            at.add(ticker.read());
        }
        return at;
    }

    @Test
    void burstOneSpacesEveryRequestByTheInterval() throws Exception {
        FakeTicker ticker = new FakeTicker();
        var limiter = new TokenBucketHostLimiter(10, 1, ticker);
        List<Long> at = admissions(limiter, ticker, "http://a", 6);
        for (int i = 1; i < at.size(); i++) {
            assertThat(at.get(i) - at.get(i - 1)).as("gap %d", i).isGreaterThanOrEqualTo(100_000_000L);
        }
        assertThat(at.getLast() - at.getFirst()).as("and not slower than the rate").isLessThan(5 * 100_000_000L
                + 10_000_000L);
    }

    @Test
    void burstLetsThatManyGoAtOnceThenTheRate() throws Exception {
        FakeTicker ticker = new FakeTicker();
        var limiter = new TokenBucketHostLimiter(10, 3, ticker);
        List<Long> at = admissions(limiter, ticker, "http://a", 5);
        assertThat(at.subList(0, 3)).containsOnly(at.getFirst());
        assertThat(at.get(3) - at.getFirst()).isGreaterThanOrEqualTo(100_000_000L);
        assertThat(at.get(4) - at.get(3)).isGreaterThanOrEqualTo(100_000_000L);
    }

    @Test
    void hostsAreIndependentAndPauseHoldsOnlyItsHost() throws Exception {
        FakeTicker ticker = new FakeTicker();
        var limiter = new TokenBucketHostLimiter(10, 1, ticker);
        limiter.acquire("http://a");
        long t = ticker.read();
        limiter.acquire("http://b");
        assertThat(ticker.read()).as("another host does not wait").isEqualTo(t);
        limiter.pause("http://b", 5_000_000_000L);
        limiter.acquire("http://b");
        assertThat(ticker.read() - t).as("no request within the Retry-After").isGreaterThanOrEqualTo(5_000_000_000L);
    }

    @Test
    void unlimitedAdmitsAtOnceButHonoursAPause() throws Exception {
        FakeTicker ticker = new FakeTicker();
        var limiter = new TokenBucketHostLimiter(0, 1, ticker);
        List<Long> at = admissions(limiter, ticker, "http://a", 100);
        assertThat(at).containsOnly(at.getFirst());
        limiter.pause("http://a", 2_000_000_000L);
        limiter.acquire("http://a");
        assertThat(ticker.read() - at.getFirst()).isGreaterThanOrEqualTo(2_000_000_000L);
    }

    @Test
    void asyncAcquireCompletesAtTheSameInstantsAsBlocking() throws Exception {
        FakeTicker ticker = new FakeTicker();
        var limiter = new TokenBucketHostLimiter(10, 1, ticker);
        List<Long> at = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            limiter.acquireAsync("http://a").get();
            at.add(ticker.read());
        }
        for (int i = 1; i < at.size(); i++) {
            assertThat(at.get(i) - at.get(i - 1)).isGreaterThanOrEqualTo(100_000_000L);
        }
    }
}
