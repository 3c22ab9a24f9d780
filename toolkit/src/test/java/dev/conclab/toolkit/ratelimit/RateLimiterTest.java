package dev.conclab.toolkit.ratelimit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(30)
class RateLimiterTest {

    private final FakeTicker clock = new FakeTicker();

    private static int drain(RateLimiter limiter) {
        int n = 0;
        while (limiter.tryAcquire()) {
            n++;
        }
        return n;
    }

    @Test
    void tokenBucketAdmitsTheBurstThenTheSteadyRateExactly() {
        RateLimiter limiter = RateLimiter.tokenBucket(10, 5, clock);   // one permit per 100 ms
        assertThat(limiter.availablePermits()).isEqualTo(5);
        assertThat(drain(limiter)).isEqualTo(5);
        clock.advance(Duration.ofMillis(99));
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(drain(limiter)).isEqualTo(1);
        int admitted = 0;
        for (int ms = 0; ms < 10_000; ms++) {           // 10 s in 1 ms steps: exactly 100 more
            clock.advance(Duration.ofMillis(1));
            admitted += drain(limiter);
        }
        assertThat(admitted).isEqualTo(100);
        clock.advance(Duration.ofHours(1));             // idle for an hour: still only the burst
        assertThat(limiter.availablePermits()).isEqualTo(5);
        assertThat(drain(limiter)).isEqualTo(5);
    }

    @Test
    void tokenBucketNeverAdmitsMoreThanBurstPlusRateTimesInterval() {
        RateLimiter limiter = RateLimiter.tokenBucket(1000, 20, clock);
        List<Long> times = new ArrayList<>();
        for (int step = 0; step < 5000; step++) {
            clock.advance(Duration.ofNanos(137_000 * (step % 7)));
            while (limiter.tryAcquire()) {
                times.add(clock.read());
            }
        }
        for (int i = 0; i < times.size(); i++) {           // any window [t_i, t_j]: j - i + 1 <= 20 + 1000 * dt
            for (int j = i; j < Math.min(times.size(), i + 200); j++) {
                double allowed = 20 + (times.get(j) - times.get(i)) / 1e6;
                assertThat((double) (j - i + 1)).isLessThanOrEqualTo(allowed);
            }
        }
    }

    @Test
    void multiPermitRequestsCostTheirWeight() {
        RateLimiter limiter = RateLimiter.tokenBucket(10, 5, clock);
        assertThat(limiter.tryAcquire(3)).isTrue();
        assertThat(limiter.tryAcquire(3)).isFalse();
        assertThat(limiter.tryAcquire(2)).isTrue();
        clock.advance(Duration.ofMillis(300));
        assertThat(limiter.tryAcquire(4)).isFalse();
        assertThat(limiter.tryAcquire(3)).isTrue();
    }

    @Test
    void slidingWindowCountsAPermitUntilExactlyOneWindowLater() {
        RateLimiter limiter = RateLimiter.slidingWindow(3, Duration.ofSeconds(1), clock);
        assertThat(limiter.tryAcquire()).isTrue();                  // t = 0
        clock.advance(Duration.ofMillis(400));
        assertThat(limiter.tryAcquire(2)).isTrue();                 // t = 400 ms
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(Duration.ofMillis(599));                      // t = 999 ms: the first still counts
        assertThat(limiter.tryAcquire()).isFalse();
        assertThat(limiter.availablePermits()).isZero();
        clock.advance(Duration.ofMillis(1));                        // t = 1000 ms: it has left
        assertThat(limiter.availablePermits()).isEqualTo(1);
        assertThat(limiter.tryAcquire()).isTrue();
        assertThat(limiter.tryAcquire()).isFalse();
        clock.advance(Duration.ofMillis(400));                      // t = 1400 ms: the two of 400 ms leave
        assertThat(drain(limiter)).isEqualTo(2);
    }

    @Test
    void slidingWindowNeverExceedsTheLimitInAnyWindow() {
        RateLimiter limiter = RateLimiter.slidingWindow(10, Duration.ofMillis(100), clock);
        List<Long> times = new ArrayList<>();
        for (int step = 0; step < 3000; step++) {
            clock.advance(Duration.ofNanos(1_300_000L * (step % 5)));
            while (limiter.tryAcquire()) {
                times.add(clock.read());
            }
        }
        for (int i = 0; i + 10 < times.size(); i++) {       // the 11th after any permit is a window later
            assertThat(times.get(i + 10) - times.get(i)).isGreaterThanOrEqualTo(100_000_000L);
        }
        assertThat(times).hasSizeGreaterThan(100);
    }

    @Test
    void badInputIsRefusedNamingTheParameter() {
        assertThatThrownBy(() -> RateLimiter.tokenBucket(0, 1, clock)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permitsPerSecond");
        assertThatThrownBy(() -> RateLimiter.tokenBucket(-1, 1)).hasMessageContaining("permitsPerSecond");
        assertThatThrownBy(() -> RateLimiter.tokenBucket(Double.NaN, 1)).hasMessageContaining("permitsPerSecond");
        assertThatThrownBy(() -> RateLimiter.tokenBucket(Double.POSITIVE_INFINITY, 1))
                .hasMessageContaining("permitsPerSecond");
        assertThatThrownBy(() -> RateLimiter.tokenBucket(5, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("burst");
        assertThatThrownBy(() -> RateLimiter.slidingWindow(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> RateLimiter.slidingWindow(1, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
        RateLimiter limiter = RateLimiter.tokenBucket(5, 3, clock);
        assertThatThrownBy(() -> limiter.tryAcquire(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits");
        assertThatThrownBy(() -> limiter.acquire(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits");
        assertThatThrownBy(() -> limiter.acquireAsync(4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits (4) exceeds the capacity (3)");
        assertThatThrownBy(() -> RateLimiter.tokenBucket(5, 3, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("ticker");
    }

    @Test
    void blockedWaitersAreAdmittedInArrivalOrder() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(1, 1, clock);
        assertThat(limiter.tryAcquire()).isTrue();
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int id = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    limiter.acquire();
                    order.add(id);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }));
            int queued = i + 1;
            await().until(() -> limiter.queueLength() == queued);   // forces the arrival order
        }
        assertThat(limiter.tryAcquire()).as("tryAcquire must not barge").isFalse();
        for (int i = 0; i < 5; i++) {
            await().until(clock::hasParked);                        // the pump waits for time to pass
            assertThat(order).hasSize(i);
            clock.advance(Duration.ofSeconds(1));
            int admitted = i + 1;
            await().until(() -> order.size() == admitted);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(order).containsExactly(0, 1, 2, 3, 4);
        assertThat(limiter.queueLength()).isZero();
    }

    @Test
    void asyncAndBlockingWaitersShareOneFifoQueue() throws Exception {
        RateLimiter limiter = RateLimiter.slidingWindow(2, Duration.ofSeconds(1), clock);
        assertThat(limiter.tryAcquire(2)).isTrue();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> first = limiter.acquireAsync(1).thenRun(() -> order.add("async-1"));
        Thread blocking = Thread.ofVirtual().start(() -> {
            try {
                limiter.acquire();
                order.add("blocking");
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        await().until(() -> limiter.queueLength() == 2);
        CompletableFuture<Void> third = limiter.acquireAsync(1).thenRun(() -> order.add("async-3"));
        await().until(clock::hasParked);
        clock.advance(Duration.ofSeconds(1));     // two permits come back: async-1 then blocking
        blocking.join();
        first.join();
        assertThat(order).containsExactly("async-1", "blocking");
        await().until(clock::hasParked);
        clock.advance(Duration.ofSeconds(1));
        third.get(10, TimeUnit.SECONDS);
        assertThat(order).containsExactly("async-1", "blocking", "async-3");
    }

    @Test
    void anInterruptedWaiterLeavesTheQueueWithoutConsumingPermits() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(1, 1, clock);
        assertThat(limiter.tryAcquire()).isTrue();
        var caught = new CompletableFuture<Throwable>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                limiter.acquire();
                caught.complete(null);
            } catch (InterruptedException e) {
                caught.complete(e);
            }
        });
        await().until(() -> limiter.queueLength() == 1);
        waiter.interrupt();
        assertThat(caught.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(limiter.queueLength()).isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire()).as("the interrupted waiter's permit is still there").isTrue();
    }

    @Test
    void anInterruptBeforeTheCallThrowsAtOnce() {
        RateLimiter limiter = RateLimiter.tokenBucket(1, 1, clock);
        Thread.currentThread().interrupt();
        assertThatThrownBy(limiter::acquire).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        assertThat(limiter.availablePermits()).isEqualTo(1);
    }

    @Test
    void aCancelledFutureGivesItsPlaceUpAndConsumesNoPermit() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(1, 2, clock);
        assertThat(limiter.tryAcquire(2)).isTrue();
        CompletableFuture<Void> big = limiter.acquireAsync(2);
        CompletableFuture<Void> small = limiter.acquireAsync(1);
        assertThat(limiter.queueLength()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(1));           // one permit back: not enough for the head (2)
        await().until(clock::hasParked);
        assertThat(small).isNotDone();
        assertThat(big.cancel(false)).isTrue();         // the head leaves: the small one fits now
        small.get(10, TimeUnit.SECONDS);
        assertThat(limiter.queueLength()).isZero();
        assertThat(limiter.availablePermits()).isZero();
        clock.advance(Duration.ofSeconds(2));
        assertThat(limiter.availablePermits()).as("the cancelled request took nothing").isEqualTo(2);
        assertThat(small.cancel(false)).as("too late to cancel once granted").isFalse();
    }

    @Test
    void aTimedOutFutureConsumesNoPermit() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(1, 1, clock);
        assertThat(limiter.tryAcquire()).isTrue();
        CompletableFuture<Void> f = limiter.acquireAsync(1).orTimeout(1, TimeUnit.MILLISECONDS);
        await().until(f::isDone);
        assertThat(f).isCompletedExceptionally();
        await().until(() -> limiter.queueLength() == 0);
        clock.advance(Duration.ofSeconds(1));
        assertThat(limiter.tryAcquire()).isTrue();
    }

    @Test
    void manyThreadsContendingAdmitExactlyTheBudget() throws Exception {
        for (RateLimiter limiter : List.of(RateLimiter.tokenBucket(1000, 500, clock),
                RateLimiter.slidingWindow(500, Duration.ofMillis(500), clock))) {
            int threads = 8;
            var admitted = new AtomicInteger();
            var barrier = new CyclicBarrier(threads);
            var done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                Thread.ofPlatform().start(() -> {
                    try {
                        barrier.await();
                        for (int i = 0; i < 2000; i++) {
                            if (limiter.tryAcquire()) {
                                admitted.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await();
            assertThat(admitted.get()).as(limiter.toString()).isEqualTo(500);
        }
    }

    @Test
    void blockingContendersAreAllAdmittedAtTheRate() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(100, 10, clock);
        int threads = 50;
        var admitted = new AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.add(Thread.ofVirtual().start(() -> {
                try {
                    limiter.acquire();
                    admitted.incrementAndGet();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        await().until(() -> admitted.get() + limiter.queueLength() == threads);
        assertThat(admitted.get()).isEqualTo(10);
        for (int step = 1; step <= 4; step++) {            // 100 ms = 10 more each step
            await().until(clock::hasParked);
            clock.advance(Duration.ofMillis(100));
            int expected = 10 + 10 * step;
            await().until(() -> admitted.get() == expected);
            assertThat(limiter.queueLength()).isEqualTo(threads - expected);
        }
        for (Thread t : all) {
            t.join();
        }
    }

    @Test
    void realTimeAdmissionFollowsTheRate() throws Exception {
        RateLimiter limiter = RateLimiter.tokenBucket(200, 1);
        long start = System.nanoTime();
        for (int i = 0; i < 60; i++) {
            limiter.acquire();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // 59 intervals of 5 ms after the first: 0.295 s; generous bounds for a shared machine.
        assertThat(seconds).isBetween(0.29, 1.5);
    }

    @Test
    void evictsOnlyKeysThatAreIdleFullAndUnwaited() {
        var keyed = new KeyedRateLimiter<String>(() -> RateLimiter.tokenBucket(1, 2, clock), Duration.ofSeconds(10),
                clock);
        assertThat(keyed.tryAcquire("a", 2)).isTrue();
        assertThat(keyed.tryAcquire("a", 1)).isFalse();
        assertThat(keyed.tryAcquire("b", 1)).isTrue();
        assertThat(keyed.size()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(9));
        assertThat(keyed.evictIdle()).isZero();                  // not idle long enough
        keyed.forKey("b");
        clock.advance(Duration.ofSeconds(1));
        assertThat(keyed.evictIdle()).isEqualTo(1);             // a: idle 10 s and full again
        assertThat(keyed.size()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(10));
        assertThat(keyed.evictIdle()).isEqualTo(1);
        assertThat(keyed.size()).isZero();
        assertThatThrownBy(() -> new KeyedRateLimiter<String>(() -> null, Duration.ZERO, clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
    }

    @Test
    void aKeyThatIsNotFullIsKept() {
        var keyed = new KeyedRateLimiter<String>(() -> RateLimiter.tokenBucket(0.01, 1, clock),
                Duration.ofSeconds(1), clock);
        assertThat(keyed.tryAcquire("slow", 1)).isTrue();
        clock.advance(Duration.ofSeconds(50));                  // idle, but refills only after 100 s
        assertThat(keyed.evictIdle()).isZero();
        assertThat(keyed.tryAcquire("slow", 1)).as("eviction must not hand out a fresh bucket").isFalse();
    }

    /**
     * The eviction race, forced: a caller looks a key's limiter up, is held (latch) while the key is evicted and a
     * new limiter for it spends the whole burst, then spends its own. Before retirement the held limiter was a
     * second full bucket: 2 × burst admitted at one instant. Now it forwards to the live one and gets nothing.
     */
    @Test
    void aLimiterHeldAcrossItsEvictionNeverAdmitsASecondBurst() throws Exception {
        var keyed = new KeyedRateLimiter<String>(() -> RateLimiter.tokenBucket(1, 5, clock), Duration.ofSeconds(1),
                clock);
        var looked = new CountDownLatch(1);
        var go = new CountDownLatch(1);
        var heldAdmitted = new AtomicInteger();
        Thread holder = Thread.ofPlatform().start(() -> {
            RateLimiter held = keyed.forKey("k");
            looked.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            heldAdmitted.set(drain(held));
        });
        assertThat(looked.await(10, TimeUnit.SECONDS)).isTrue();
        clock.advance(Duration.ofSeconds(2));                     // idle and full
        assertThat(keyed.evictIdle()).isEqualTo(1);
        int liveAdmitted = 0;
        while (keyed.tryAcquire("k", 1)) {
            liveAdmitted++;
        }
        go.countDown();
        holder.join();
        assertThat(liveAdmitted + heldAdmitted.get()).as("permits admitted for one key at one instant")
                .isEqualTo(5);
        assertThat(heldAdmitted.get()).isZero();
    }

    @Test
    void aRetiredLimiterForwardsEveryCallToTheLiveOne() throws Exception {
        for (var kind : List.of("bucket", "window")) {
            var keyed = new KeyedRateLimiter<String>(() -> kind.equals("bucket") ? RateLimiter.tokenBucket(1, 2, clock)
                    : RateLimiter.slidingWindow(2, Duration.ofSeconds(2), clock), Duration.ofSeconds(1), clock);
            RateLimiter stale = keyed.forKey("k");
            clock.advance(Duration.ofSeconds(5));
            assertThat(keyed.evictIdle()).as(kind).isEqualTo(1);
            assertThat(stale.tryAcquire()).as(kind).isTrue();       // forwarded: the live limiter is made now
            assertThat(keyed.size()).as(kind).isEqualTo(1);
            RateLimiter live = keyed.forKey("k");
            assertThat(live).isNotSameAs(stale);
            assertThat(live.availablePermits()).as(kind).isEqualTo(1);
            assertThat(stale.availablePermits()).as(kind).isEqualTo(1);
            assertThat(stale.acquireAsync(1)).as(kind).isCompleted();
            var pending = stale.acquireAsync(1);                    // waits on the live limiter, FIFO there
            assertThat(pending).isNotDone();
            assertThat(live.queueLength()).as(kind).isEqualTo(1);
            clock.advance(Duration.ofSeconds(2));
            pending.get(10, TimeUnit.SECONDS);
            assertThat(live.queueLength()).isZero();
        }
    }

    @Test
    void aLimiterWithAWaiterOrNotFullIsNotRetired() {
        var keyed = new KeyedRateLimiter<String>(() -> RateLimiter.tokenBucket(1, 1, clock), Duration.ofSeconds(1),
                clock);
        RateLimiter limiter = keyed.forKey("k");
        assertThat(limiter.tryAcquire()).isTrue();
        var waiter = limiter.acquireAsync(1);
        clock.advance(Duration.ofMillis(999));
        assertThat(((QueuedLimiter) limiter).retireIfIdle(() -> limiter)).as("a waiter is queued").isFalse();
        waiter.cancel(false);
        assertThat(((QueuedLimiter) limiter).retireIfIdle(() -> limiter)).as("not full yet").isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(keyed.evictIdle()).isEqualTo(1);
        assertThat(keyed.size()).isZero();
    }
}
