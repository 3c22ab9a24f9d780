package dev.conclab.crawl.crawler;

import dev.conclab.toolkit.ratelimit.KeyedRateLimiter;
import dev.conclab.toolkit.ratelimit.RateLimiter;
import dev.conclab.toolkit.ratelimit.Ticker;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link HostRateLimiter} over the toolkit: per host, a {@link RateLimiter#tokenBucket token bucket} (held by a
 * {@link KeyedRateLimiter}, idle hosts evicted) queues the senders first-in first-out and wakes them at the rate, with
 * no thread per waiter; then a second bucket of the same rate and burst, the <em>send gate</em>, is checked on the
 * sender's own thread at the instant it is about to send.
 *
 * <p>Why two: a grant and the send that follows it are not the same instant. A sender granted its slot may run late
 * (its thread not scheduled, a GC); with only the first bucket the next sender, granted one interval later and on
 * time, then goes out right behind it, and the host sees two requests closer than the interval. A limiter that
 * reserves slots ahead of time bunches the same way. The send gate admits from the clock read just before the send
 * and makes a sender that would come too soon after the last <em>actual</em> send wait out the remainder, so the
 * bound {@code burst + rate × t} holds for the instants at which requests leave, not those at which they were granted.
 * The first bucket keeps the waiting orderly (FIFO, parked, or a pending future); the gate rarely makes anyone wait.
 *
 * <p>A pause (429 Retry-After) moves the gate's schedule past its end: no request goes before it, and after it the
 * host gets one request, then the steady rate (no burst). Thread-safe; waiting is parking (interruptible) or, for the
 * asynchronous form, a short-lived virtual thread only when the gate itself must wait.
 */
final class TokenBucketHostLimiter implements HostRateLimiter {

    private final Ticker ticker;
    /** Nanoseconds between requests to one host at the steady rate; 0 for no limit. */
    private final long interval;
    private final long slackNanos;
    private final KeyedRateLimiter<String> queues;
    private final ConcurrentHashMap<String, AtomicLong> gates = new ConcurrentHashMap<>();

    TokenBucketHostLimiter(double perSecond, int burst, Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        if (!(perSecond >= 0) || perSecond > 1e9 || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("per-host rate must be in 0..1e9 (0 = no limit), got " + perSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("per-host burst must be at least 1, got " + burst);
        }
        this.interval = perSecond == 0 ? 0 : Math.max(1, Math.round(1e9 / perSecond));
        this.slackNanos = (burst - 1) * interval;
        this.queues = perSecond == 0 ? null : new KeyedRateLimiter<>(
                () -> RateLimiter.tokenBucket(perSecond, burst, ticker), Duration.ofMinutes(1), ticker);
    }

    @Override
    public void acquire(String hostKey) throws InterruptedException {
        Objects.requireNonNull(hostKey, "hostKey");
        if (queues != null) {
            queues.acquire(hostKey, 1);
        }
        AtomicLong gate = gate(hostKey);
        long wait;
        while ((wait = tryPass(gate)) > 0) {
            ticker.parkNanos(this, wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    @Override
    public CompletableFuture<Void> acquireAsync(String hostKey) {
        Objects.requireNonNull(hostKey, "hostKey");
        AtomicLong gate = gate(hostKey);
        if (queues == null) {
            return passAsync(gate);
        }
        return queues.acquireAsync(hostKey, 1).thenCompose(granted -> passAsync(gate));
    }

    @Override
    public void pause(String hostKey, long nanos) {
        if (nanos <= 0) {
            return;
        }
        AtomicLong gate = gate(hostKey);
        long until = ticker.read() + nanos + slackNanos;
        gate.accumulateAndGet(until, (current, u) -> current - u > 0 ? current : u);
    }

    private AtomicLong gate(String hostKey) {
        AtomicLong gate = gates.get(hostKey);
        return gate != null ? gate : gates.computeIfAbsent(hostKey, k -> new AtomicLong(ticker.read() - interval));
    }

    /**
     * Passes the gate now (returns 0, having taken the slot) or returns how long to wait before trying again. The
     * gate is a GCRA: {@code tat} is when the requests sent so far are paid for; a send at {@code now} is allowed
     * iff {@code tat − now ≤ (burst − 1) × interval}.
     */
    private long tryPass(AtomicLong gate) {
        while (true) {
            long now = ticker.read();
            long tat = gate.get();
            long early = tat - now - slackNanos;
            if (early > 0) {
                return early;
            }
            if (interval == 0) {
                return 0; // no limit and no pause: nothing to record
            }
            if (gate.compareAndSet(tat, (tat - now > 0 ? tat : now) + interval)) {
                return 0;
            }
        }
    }

    private CompletableFuture<Void> passAsync(AtomicLong gate) {
        long wait = tryPass(gate);
        if (wait == 0) {
            return CompletableFuture.completedFuture(null);
        }
        // Rare (a late sender, or a pause): a virtual thread waits it out, then the stage sends from there.
        CompletableFuture<Void> passed = new CompletableFuture<>();
        Thread.ofVirtual().name("crawl-gate").start(() -> {
            long w = wait;
            do {
                ticker.parkNanos(this, w);
                if (passed.isDone()) {
                    return; // cancelled while waiting: take nothing
                }
            } while ((w = tryPass(gate)) > 0);
            passed.complete(null);
        });
        return passed;
    }

    @Override
    public String toString() {
        return "TokenBucketHostLimiter[interval=" + TimeUnit.NANOSECONDS.toMicros(interval) + " µs, burst="
                + (slackNanos / Math.max(1, interval) + 1) + ", hosts=" + gates.size() + "]";
    }
}
