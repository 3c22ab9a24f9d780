package dev.conclab.bench.ratelimit;

import dev.conclab.toolkit.ratelimit.RateLimiter;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * {@code tryAcquire} throughput of one shared rate limiter, on 1 and 2 threads: the toolkit's token bucket beside
 * Bucket4j's lock-free bucket, Guava's {@code RateLimiter} (SmoothBursty, {@code synchronized}) and Resilience4j's
 * {@code AtomicRateLimiter}. <b>BASELINE: the fastest of the three peers</b> in each case (path × threads).
 *
 * <p>Two paths:
 * <ul>
 *   <li>{@code admitted}: a rate so high (10⁹ per second, a burst of 2³¹ − 1 or the peer's nearest) that no call
 *       is ever refused, so every call writes the shared state;</li>
 *   <li>{@code rejected}: one permit per 1,000 s, taken in set-up, so every call is refused; a limiter that writes
 *       nothing when it refuses scales on this path.</li>
 * </ul>
 * Each operation returns the decision (consumed by JMH) so that nothing is optimized away.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RateLimitBenchmark {

    /** The limiters, the toolkit's first. */
    public static final List<String> LIMITERS = List.of("toolkit", "bucket4j", "guava", "resilience4j");
    /** The toolkit's own entry; the others are the peers. */
    public static final String TOOLKIT = "toolkit";

    @Param({"toolkit", "bucket4j", "guava", "resilience4j"})
    public String limiter;

    @Param({"admitted", "rejected"})
    public String path;

    private BooleanSupplier tryAcquire;

    @Setup
    public void setUp() {
        boolean admitted = switch (path) {
            case "admitted" -> true;
            case "rejected" -> false;
            default -> throw new IllegalArgumentException("unknown path: " + path);
        };
        tryAcquire = make(limiter, admitted);
        if (!admitted) {
            tryAcquire.getAsBoolean();                     // the only permit: every later call is refused
            if (tryAcquire.getAsBoolean()) {
                throw new IllegalStateException(limiter + " admitted a call on the rejected path");
            }
        }
    }

    /** A {@code tryAcquire} of one permit on a fresh limiter of {@code name}, always admitting or never. */
    public static BooleanSupplier make(String name, boolean admitted) {
        return switch (name) {
            case "toolkit" -> {
                RateLimiter l = admitted ? RateLimiter.tokenBucket(1e9, Integer.MAX_VALUE)
                        : RateLimiter.tokenBucket(0.001, 1);
                yield l::tryAcquire;
            }
            case "bucket4j" -> {
                Bucket b = admitted
                        ? Bucket.builder().addLimit(l -> l.capacity(Integer.MAX_VALUE)
                                .refillGreedy(1_000_000_000L, Duration.ofSeconds(1))).build()
                        : Bucket.builder().addLimit(l -> l.capacity(1).refillGreedy(1, Duration.ofSeconds(1000)))
                                .build();
                yield () -> b.tryConsume(1);
            }
            case "guava" -> {
                var g = com.google.common.util.concurrent.RateLimiter.create(admitted ? 1e9 : 0.001);
                yield g::tryAcquire;
            }
            case "resilience4j" -> {
                var config = RateLimiterConfig.custom().timeoutDuration(Duration.ZERO)
                        .limitForPeriod(admitted ? Integer.MAX_VALUE : 1)
                        .limitRefreshPeriod(admitted ? Duration.ofSeconds(1) : Duration.ofSeconds(1000)).build();
                var r = io.github.resilience4j.ratelimiter.RateLimiter.of("bench", config);
                yield r::acquirePermission;
            }
            default -> throw new IllegalArgumentException("unknown limiter: " + name);
        };
    }

    @Benchmark
    @Threads(1)
    public boolean oneThread() {
        return tryAcquire.getAsBoolean();
    }

    @Benchmark
    @Threads(2)
    public boolean twoThreads() {
        return tryAcquire.getAsBoolean();
    }
}
