package dev.conclab.toolkit.ratelimit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One {@link RateLimiter} per key (per client, per host), created on first use and evicted once idle.
 *
 * <p>A key's limiter is <em>idle</em> when nobody has used it for {@code idleTimeout}, nobody waits on it and it
 * is back at full capacity: evicting it then loses nothing, since a new one starts full. Eviction runs on
 * {@link #evictIdle()} and, amortized, on every {@value #SWEEP_EVERY}-th lookup; a sweep visits every key.
 *
 * <p><b>Thread safety.</b> All methods are thread-safe. Lookups do not lock. Eviction never lets a key admit more
 * than one limiter's capacity at an instant: inside the map's {@code compute} for the key it <em>retires</em> the
 * limiter, atomically with checking that nobody waits and that it is full, and removes it. A caller that looked the
 * limiter up before the eviction (or holds one from {@link #forKey}) and calls it afterwards is forwarded to the
 * key's live limiter, so the evicted limiter's full bucket is never spent beside the new one's.
 *
 * <p>Blocking, ordering, interruption and cancellation are those of the per-key {@link RateLimiter}: FIFO per key,
 * independent across keys.
 *
 * @param <K> the key type; keys must have proper {@code equals} and {@code hashCode}
 */
public final class KeyedRateLimiter<K> {

    static final int SWEEP_EVERY = 4096;

    private final ConcurrentHashMap<K, Entry> limiters = new ConcurrentHashMap<>();
    private final Supplier<? extends RateLimiter> factory;
    private final Ticker ticker;
    private final long idleNanos;
    private final AtomicInteger lookups = new AtomicInteger();

    private static final class Entry {
        final RateLimiter limiter;
        volatile long lastUsed;

        Entry(RateLimiter limiter, long now) {
            this.limiter = limiter;
            this.lastUsed = now;
        }
    }

    /**
     * @param factory     makes a new limiter for a key (for example {@code () -> RateLimiter.tokenBucket(5, 10,
     *                    ticker)}); the limiters should use {@code ticker}
     * @param idleTimeout how long a full, unused limiter is kept
     * @param ticker      the time used to judge idleness
     * @throws IllegalArgumentException if {@code idleTimeout} is not positive
     */
    public KeyedRateLimiter(Supplier<? extends RateLimiter> factory, Duration idleTimeout, Ticker ticker) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
        }
        this.idleNanos = idleTimeout.toNanos();
    }

    /**
     * The limiter for {@code key}, created if absent; marks the key as used now. The limiter stays valid after
     * the key is evicted: its calls then go to the key's live limiter (and {@link RateLimiter#availablePermits()}
     * reports that one's).
     */
    public RateLimiter forKey(K key) {
        Objects.requireNonNull(key, "key");
        long now = ticker.read();
        if ((lookups.incrementAndGet() & (SWEEP_EVERY - 1)) == 0) {
            evictIdle();
        }
        Entry entry = limiters.computeIfAbsent(key, k -> new Entry(Objects.requireNonNull(factory.get(),
                "factory returned null"), now));
        if (entry.lastUsed != now) {
            entry.lastUsed = now;
        }
        return entry.limiter;
    }

    /** {@code forKey(key).tryAcquire(permits)}. */
    public boolean tryAcquire(K key, int permits) {
        return forKey(key).tryAcquire(permits);
    }

    /** {@code forKey(key).acquire(permits)}. */
    public void acquire(K key, int permits) throws InterruptedException {
        forKey(key).acquire(permits);
    }

    /** {@code forKey(key).acquireAsync(permits)}. */
    public CompletableFuture<Void> acquireAsync(K key, int permits) {
        return forKey(key).acquireAsync(permits);
    }

    /**
     * Removes every key idle for at least the idle timeout, with no waiter and a full limiter.
     *
     * @return the number of keys removed
     */
    public int evictIdle() {
        long now = ticker.read();
        int removed = 0;
        for (var e : limiters.entrySet()) {
            Entry entry = e.getValue();
            K key = e.getKey();
            if (now - entry.lastUsed >= idleNanos && entry.limiter.queueLength() == 0) {
                boolean[] retired = {false};
                // inside compute: a lookup of this key waits for the removal, so the successor is a new limiter
                limiters.computeIfPresent(key, (k, current) -> {
                    if (current == entry && now - entry.lastUsed >= idleNanos
                            && ((QueuedLimiter) entry.limiter).retireIfIdle(() -> forKey(k))) {
                        retired[0] = true;
                        return null;
                    }
                    return current;
                });
                if (retired[0]) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /** The number of keys currently held. */
    public int size() {
        return limiters.size();
    }
}
