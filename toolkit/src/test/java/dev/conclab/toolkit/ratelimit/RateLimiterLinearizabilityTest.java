package dev.conclab.toolkit.ratelimit;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * The admission state of both limiters, checked for linearizability by lincheck's model checker: every concurrent
 * history of {@code tryAcquire} (1 or 2 permits) and {@code availablePermits} must match some sequential order of
 * them, the sequential specification being the limiter itself called one operation at a time.
 *
 * <p>Time stands still during the parallel part. The limiters read the ticker once on entry, so a thread delayed
 * between that reading and its decision decides as of its reading; lincheck finds that at once if a {@code tick}
 * operation runs in parallel (a refusal "in the past" beside admissions "in the future"). That is the documented
 * contract, not a lost update: what this test checks is that concurrent admissions and refusals never lose or
 * invent a permit. Each scenario starts from a partly refilled state (permits taken, then some time passed).
 *
 * <p>Runs in its own Surefire fork (execution {@code lincheck} in {@code toolkit/pom.xml}).
 */
class RateLimiterLinearizabilityTest {

    private static ModelCheckingOptions options() {
        return new ModelCheckingOptions()
                .iterations(30)
                .invocationsPerIteration(500)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(1)
                .actorsAfter(1);
    }

    @Test
    void tokenBucketStateIsLinearizable() {
        assertThatCode(() -> options().check(TokenBucketSpec.class)).doesNotThrowAnyException();
    }

    @Test
    void slidingWindowStateIsLinearizable() {
        assertThatCode(() -> options().check(SlidingWindowSpec.class)).doesNotThrowAnyException();
    }

    /** A ticker moved only by the {@code tick} operation (no parking happens: nobody blocks here). */
    public static final class StepTicker implements Ticker {
        private volatile long now;

        @Override
        public long read() {
            return now;
        }

        synchronized void advance(long nanos) {
            now += nanos;
        }
    }

    @Param(name = "permits", gen = IntGen.class, conf = "1:2")
    public static class TokenBucketSpec {
        private final StepTicker ticker = new StepTicker();
        private final RateLimiter limiter = RateLimiter.tokenBucket(1e9 / 10, 3, ticker);   // 10 ns per permit

        public TokenBucketSpec() {
            limiter.tryAcquire(3);
            ticker.advance(25);              // 2.5 tokens back: tryAcquire(2) then (1) must fail
        }

        @Operation
        public boolean tryAcquire(@Param(name = "permits") int permits) {
            return limiter.tryAcquire(permits);
        }

        @Operation
        public long available() {
            return limiter.availablePermits();
        }

    }

    @Param(name = "permits", gen = IntGen.class, conf = "1:2")
    public static class SlidingWindowSpec {
        private final StepTicker ticker = new StepTicker();
        private final RateLimiter limiter = RateLimiter.slidingWindow(4, Duration.ofNanos(20), ticker);

        public SlidingWindowSpec() {
            limiter.tryAcquire(2);
            ticker.advance(10);
            limiter.tryAcquire(1);           // one left in the window
        }

        @Operation
        public boolean tryAcquire(@Param(name = "permits") int permits) {
            return limiter.tryAcquire(permits);
        }

        @Operation
        public long available() {
            return limiter.availablePermits();
        }

    }
}
