package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.ratelimit.KeyedRateLimiter;
import dev.conclab.toolkit.ratelimit.RateLimiter;
import dev.conclab.toolkit.ratelimit.Ticker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A production rate limiter: the toolkit's token bucket ({@code dev.conclab.toolkit.ratelimit}) checked for exact
 * admission, real-time accuracy, FIFO waiters, asynchronous acquire, contention and per-key eviction, beside a
 * Broken check-then-act counter and CPython's asyncio.
 *
 * <ol>
 *   <li><b>BASELINE — exact admission under a fake clock</b>: a token bucket of rate 10/s and burst 5 on a
 *       {@link Ticker} moved only by the experiment. It admits exactly 5 at once, then exactly one more per 100 ms
 *       of fake time; a sliding window of 5 per second admits exactly 5 per window.</li>
 *   <li><b>Real time</b>: two threads spin on {@code tryAcquire} for a short window; the permits admitted are
 *       compared with {@code rate × elapsed} (within 5 %, generous for a shared machine) and no admission is ever
 *       above the budget.</li>
 *   <li><b>FIFO waiters, forced</b>: blocking and asynchronous waiters queue one at a time (each starts only once
 *       {@code queueLength()} shows the previous one queued), then fake time releases one permit at a time; they
 *       are served exactly in arrival order, and {@code tryAcquire} never overtakes them.</li>
 *   <li><b>Async acquire</b>: {@code acquireAsync} returns pending futures that complete one per permit in order;
 *       a cancelled one consumes nothing.</li>
 *   <li><b>Many virtual threads</b>: thousands contend on one bucket — on a frozen fake clock exactly the burst
 *       is admitted; in real time, {@code acquire()} admits every thread and never more than
 *       {@code burst + rate × t} by any time {@code t}.</li>
 *   <li><b>Broken — check-then-act counter</b> vs the compare-and-set counter the token bucket is built on, both
 *       with the same forced interleaving (a barrier between reading the count and writing it): the Broken one
 *       admits 2 for a limit of 1 on every trial, the CAS one exactly 1.</li>
 *   <li><b>Per-key limiter</b>: idle keys are evicted after the timeout, and a caller holding an evicted key's
 *       limiter is forwarded to the live one (never a second burst).</li>
 * </ol>
 * CPython, in the probe {@code rate_limiter.py}: an asyncio token bucket on {@code time.monotonic()} and
 * {@code asyncio.sleep} (the standard library has no rate limiter), and {@code asyncio.Semaphore(k)}, which bounds
 * how many tasks run at once, not how many start per second.
 *
 * <p>Run: {@code ./conclab run rate-limiter}. Expect exact counts under the fake clock, errors of a few tenths
 * of a percent in real time, order 0, 1, 2, … for waiters, 2 vs 1 for the Broken vs CAS counters, and a
 * semaphore whose start rate is many times its permits per second.
 */
public final class RateLimiterExperiment implements Experiment {

    static final ClaimSpec EXACT = new ClaimSpec("exact-under-fake-clock",
            "Under a fake clock a token bucket admits exactly its burst at once, then exactly one permit per"
                    + " interval of the rate; a sliding window admits exactly its limit per window.");
    static final ClaimSpec REAL_TIME = new ClaimSpec("real-time-accuracy",
            "In real time the token bucket admits within 5 % of rate × elapsed, and never more than its budget at"
                    + " any instant.");
    static final ClaimSpec FIFO = new ClaimSpec("fifo-waiters",
            "Waiters, blocking and asynchronous alike, are admitted in the order they queued, and tryAcquire never"
                    + " overtakes them.");
    static final ClaimSpec ASYNC = new ClaimSpec("async-acquire",
            "acquireAsync returns a pending CompletableFuture at once; futures complete one per permit in the order"
                    + " asked, and a cancelled one consumes no permit.");
    static final ClaimSpec VIRTUAL = new ClaimSpec("virtual-threads-bounded",
            "Thousands of virtual threads contending on one token bucket never get more than burst + rate × t"
                    + " permits by any time t, and every blocked one is admitted in the end.");
    static final ClaimSpec BROKEN = new ClaimSpec("broken-check-then-act",
            "Broken: a counter that checks the count and then increments it admits more than its limit when two"
                    + " callers interleave; with compare-and-set it admits exactly the limit.");
    static final ClaimSpec KEYED = new ClaimSpec("keyed-eviction",
            "The per-key limiter evicts keys idle past the timeout, and a caller still holding an evicted key's"
                    + " limiter never gets a second burst.");
    static final ClaimSpec PY_BUCKET = new ClaimSpec("py-asyncio-bucket",
            "An asyncio token bucket built on time.monotonic() and asyncio.sleep admits within 5 % of rate ×"
                    + " elapsed, and never more than its budget.");
    static final ClaimSpec PY_SEMAPHORE = new ClaimSpec("py-semaphore-not-rate",
            "asyncio.Semaphore(k) bounds how many tasks run at once, not how many start per second: short tasks"
                    + " start at many times k per second.");

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Override
    public String id() {
        return "rate-limiter";
    }

    @Override
    public String title() {
        return "A production rate limiter: token bucket, FIFO waiters, async acquire, per-key eviction, asyncio";
    }

    @Override
    public String description() {
        return "The toolkit's token bucket under a fake clock (exact counts) and in real time (accuracy), FIFO"
                + " blocking and async waiters forced into a known order, thousands of virtual threads, a Broken"
                + " check-then-act counter beside compare-and-set, per-key eviction; in CPython an asyncio token"
                + " bucket and asyncio.Semaphore, which bounds concurrency, not rate.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("rate", "permits per second in the real-time runs", 100, 1_000_000, 5_000,
                        5_000),
                new Param.IntParam("window-ms", "length of the real-time runs, in ms", 100, 60_000, 2_000, 300),
                new Param.IntParam("waiters", "waiters queued in the FIFO run", 2, 1_000, 32, 8),
                new Param.IntParam("threads", "virtual threads contending", 10, 1_000_000, 20_000, 2_000),
                new Param.IntParam("trials", "forced interleavings of the Broken and CAS counters", 1, 10_000, 200,
                        20),
                new Param.IntParam("keys", "keys used in the per-key run", 1, 1_000_000, 10_000, 500));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(EXACT, REAL_TIME, FIFO, ASYNC, VIRTUAL, BROKEN, KEYED, PY_BUCKET, PY_SEMAPHORE);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(5);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Admission by variant (the toolkit's RateLimiter unless named)",
                "variant", "setting", "admitted", "bound or expected", "outcome");
        ctx.progress(0.02, "fake clock: exact admission");
        exact(ctx, table);
        ctx.progress(0.1, "real time: accuracy");
        realTime(ctx, table);
        ctx.progress(0.3, "FIFO waiters");
        fifo(ctx, table);
        ctx.progress(0.4, "async acquire");
        async(ctx, table);
        ctx.progress(0.5, "virtual threads");
        virtualThreads(ctx, table);
        ctx.progress(0.65, "Broken check-then-act vs CAS");
        broken(ctx, table);
        ctx.progress(0.7, "per-key eviction");
        keyed(ctx, table);
        ctx.table(table.build());
        ctx.progress(0.75, "CPython: rate_limiter.py");
        python(ctx);
    }

    // ---- fake clock ----------------------------------------------------------------------------------------

    /** A ticker moved only by {@link #advance}; threads parked on it (the limiter's pump) wake when it moves. */
    static final class StepClock implements Ticker {
        private final AtomicLong now = new AtomicLong(1_000_000_000L);
        private final Set<Thread> parked = ConcurrentHashMap.newKeySet();

        @Override
        public long read() {
            return now.get();
        }

        @Override
        public void parkNanos(Object blocker, long nanos) {
            long deadline = now.get() + nanos;
            Thread me = Thread.currentThread();
            parked.add(me);
            try {
                if (now.get() - deadline < 0) {     // registered before re-reading: an advance cannot be missed
                    LockSupport.park(blocker);
                }
            } finally {
                parked.remove(me);
            }
        }

        void advance(Duration d) {
            now.addAndGet(d.toNanos());
            parked.forEach(LockSupport::unpark);
        }

        /**
         * Whether a thread (the limiter's pump) is parked on this clock. The pump reads the time, then parks for
         * the rest of its wait measured from the time it reads in {@code parkNanos}: an advance in between would
         * push its wake-up one step further. So the experiment advances only while the pump is parked.
         */
        boolean hasParked() {
            return !parked.isEmpty();
        }
    }

    private static int drain(RateLimiter limiter) {
        int n = 0;
        while (limiter.tryAcquire()) {
            n++;
        }
        return n;
    }

    private static void exact(RunContext ctx, Table.Builder table) {
        var clock = new StepClock();
        RateLimiter bucket = RateLimiter.tokenBucket(10, 5, clock);        // one permit per 100 ms
        int burst = drain(bucket);
        int steady = 0;
        int maxPerStep = 0;
        for (int step = 0; step < 100; step++) {                           // 10 s of fake time in 100 ms steps
            clock.advance(Duration.ofMillis(100));
            int got = drain(bucket);
            steady += got;
            maxPerStep = Math.max(maxPerStep, got);
        }
        clock.advance(Duration.ofMillis(99));
        boolean earlyRefused = !bucket.tryAcquire();
        RateLimiter window = RateLimiter.slidingWindow(5, Duration.ofSeconds(1), clock);
        int[] perWindow = new int[10];
        for (int w = 0; w < perWindow.length; w++) {
            perWindow[w] = drain(window);
            clock.advance(Duration.ofSeconds(1));
        }
        boolean windowExact = Arrays.stream(perWindow).allMatch(n -> n == 5);
        table.row("BASELINE token bucket, fake clock", "10/s, burst 5, 10 s", burst + " then " + steady,
                        "5 then 100", burst == 5 && steady == 100 ? "exact" : "WRONG")
                .row("sliding window, fake clock", "5 per 1 s, 10 windows", Arrays.toString(perWindow),
                        "5 each", windowExact ? "exact" : "WRONG");
        ctx.claim(EXACT, Verdict.check(burst == 5 && steady == 100 && maxPerStep == 1 && earlyRefused
                && windowExact, String.format("token bucket 10/s burst 5: %d at once (needs 5), then %d over 10 s"
                        + " in 100 ms steps (needs 100, at most 1 per step: max %d), a call 99 ms after the last"
                        + " refill %s; sliding window 5/s: %s per window (needs 5 each)", burst, steady, maxPerStep,
                earlyRefused ? "refused" : "ADMITTED", Arrays.toString(perWindow))));
    }

    // ---- real time -----------------------------------------------------------------------------------------

    private record Accuracy(long admitted, double expected, long overBudget) {
        double error() {
            return (admitted - expected) / expected;
        }
    }

    private static void realTime(RunContext ctx, Table.Builder table) throws Exception {
        double rate = ctx.intParam("rate");
        int burst = (int) Math.max(1, rate / 10);          // 100 ms of the rate: a short deschedule loses nothing
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(ctx.intParam("window-ms"));
        Accuracy best = null;
        long over = 0;
        for (int r = 0; r < Math.max(2, ctx.repeats()); r++) {
            Accuracy a = accuracy(rate, burst, windowNanos);
            over += a.overBudget();
            if (best == null || Math.abs(a.error()) < Math.abs(best.error())) {
                best = a;
            }
        }
        table.row("token bucket, real time, 2 threads", String.format("%.0f/s, burst %d, %d ms", rate, burst,
                        windowNanos / 1_000_000), best.admitted(), String.format("%.0f", best.expected()),
                String.format("%+.3f %%", best.error() * 100));
        ctx.claim(REAL_TIME, Verdict.check(Math.abs(best.error()) <= 0.05 && over == 0, String.format(
                "%.0f/s over %d ms after draining: %d admitted vs %.0f = rate × elapsed, error %+.3f %% (needs within"
                        + " ±5 %%, best of %d runs); admissions above the budget in all runs: %d (needs 0)", rate,
                windowNanos / 1_000_000, best.admitted(), best.expected(), best.error() * 100,
                Math.max(2, ctx.repeats()), over)));
    }

    /** Two threads spin on tryAcquire for {@code windowNanos} after the bucket is drained. */
    private static Accuracy accuracy(double rate, int burst, long windowNanos) throws InterruptedException {
        RateLimiter limiter = RateLimiter.tokenBucket(rate, burst);
        long drained;
        do {
            drained = System.nanoTime();                    // the bucket held < 1 permit at this reading
        } while (limiter.tryAcquire());
        long end = drained + windowNanos;
        var admitted = new AtomicLong();
        var over = new AtomicLong();
        long start = drained;
        Thread[] spinners = new Thread[2];
        for (int t = 0; t < spinners.length; t++) {
            spinners[t] = Thread.ofPlatform().name("rate-spinner-" + t).start(() -> {
                while (System.nanoTime() - end < 0) {
                    if (limiter.tryAcquire()) {
                        long n = admitted.incrementAndGet();
                        // the clock is read after counting, so the bound can only be looser, never falsely tight
                        if (n > rate * (System.nanoTime() - start) / 1e9 + 1) {
                            over.incrementAndGet();
                        }
                    }
                }
            });
        }
        for (Thread t : spinners) {
            t.join();
        }
        // What the bucket still holds is admitted too, by one last drain: a spinner descheduled near the end (a
        // loaded machine) leaves permits unclaimed, which says nothing about the limiter. Elapsed runs to the
        // drain's last reading; permits lost to a full bucket (no caller for 100 ms) still count as missing.
        long last;
        long leftover = 0;
        do {
            last = System.nanoTime();
        } while (limiter.tryAcquire() && ++leftover > 0);
        return new Accuracy(admitted.get() + leftover, rate * (last - start) / 1e9, over.get());
    }

    // ---- FIFO ------------------------------------------------------------------------------------------------

    private static void fifo(RunContext ctx, Table.Builder table) throws Exception {
        int n = ctx.intParam("waiters");
        var clock = new StepClock();
        RateLimiter limiter = RateLimiter.tokenBucket(1, 1, clock);
        drain(limiter);
        List<Integer> served = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                int index = i;
                if (i % 2 == 0) {
                    threads.add(Thread.ofVirtual().name("fifo-waiter-" + i).start(() -> {
                        try {
                            limiter.acquire();
                            served.add(index);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();   // stopped by a failed run
                        }
                    }));
                } else {
                    limiter.acquireAsync(1).thenRun(() -> served.add(index));
                }
                awaitTrue(ctx, () -> limiter.queueLength() == index + 1, "waiter " + index + " to queue");
            }
            int barged = 0;
            for (int k = 1; k <= n; k++) {
                awaitTrue(ctx, clock::hasParked, "the pump to park before permit " + k);
                clock.advance(Duration.ofSeconds(1));             // one permit due: the head's, not a newcomer's
                if (k < n && limiter.tryAcquire()) {
                    barged++;
                }
                int want = k;
                awaitTrue(ctx, () -> served.size() >= want, "waiter " + (k - 1) + " to be served");
            }
            List<Integer> expected = java.util.stream.IntStream.range(0, n).boxed().toList();
            boolean inOrder = served.equals(expected);
            table.row("FIFO waiters, fake clock", n + " waiters (even: acquire, odd: acquireAsync), 1/s",
                    served.size() + " served, " + barged + " barged", "0, 1, 2, … in order, 0 barged",
                    inOrder && barged == 0 ? "in order" : "OUT OF ORDER");
            ctx.claim(FIFO, Verdict.check(inOrder && barged == 0, String.format("%d waiters queued in order"
                            + " 0..%d, one permit released at a time: served %s (needs %s); tryAcquire with waiters"
                            + " queued and a permit due admitted %d times (needs 0)", n, n - 1, shortList(served),
                    inOrder ? "the same" : shortList(expected), barged)));
        } finally {
            for (Thread t : threads) {
                t.interrupt();
                t.join(PATIENCE.toMillis());
            }
        }
    }

    private static String shortList(List<Integer> list) {
        return list.size() <= 12 ? list.toString() : list.subList(0, 12) + "… (" + list.size() + ")";
    }

    private static void awaitTrue(RunContext ctx, BooleanSupplier condition, String what) throws TimeoutException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            ctx.checkCancelled();
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("waited " + PATIENCE.toSeconds() + " s for " + what);
            }
            LockSupport.parkNanos(50_000);                   // only decides when to look again
        }
    }

    // ---- async -----------------------------------------------------------------------------------------------

    private static void async(RunContext ctx, Table.Builder table) throws Exception {
        int n = Math.max(4, ctx.intParam("waiters"));
        var clock = new StepClock();
        RateLimiter limiter = RateLimiter.tokenBucket(1, n, clock);     // burst n: k seconds free k permits
        drain(limiter);
        List<Integer> completed = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            CompletableFuture<Void> f = limiter.acquireAsync(1);
            f.thenRun(() -> completed.add(index));
            futures.add(f);
        }
        boolean allPending = futures.stream().noneMatch(CompletableFuture::isDone);
        boolean cancelled = futures.get(1).cancel(false);
        awaitTrue(ctx, clock::hasParked, "the pump to park");
        // Waits poll isDone() and never call get(): a thread blocked in get() runs the future's dependents itself
        // when it wakes, racing the pump that is completing the next future, and the recorded order could then
        // differ from the completion order (seen once in 20 runs as [.., 5, 4, ..]). This way every dependent runs
        // in the pump, in the order it completes the futures.
        clock.advance(Duration.ofSeconds(3));                           // 3 permits: futures 0, 2 and 3
        awaitTrue(ctx, () -> futures.get(0).isDone() && futures.get(2).isDone() && futures.get(3).isDone(),
                "futures #0, #2 and #3");
        boolean restPending = futures.subList(4, n).stream().noneMatch(CompletableFuture::isDone);
        awaitTrue(ctx, clock::hasParked, "the pump to park again");
        clock.advance(Duration.ofSeconds(n - 4));
        awaitTrue(ctx, () -> futures.subList(4, n).stream().allMatch(CompletableFuture::isDone), "the other futures");
        awaitTrue(ctx, () -> completed.size() == n - 1, "every dependent stage");
        List<Integer> expected = new ArrayList<>(java.util.stream.IntStream.range(0, n).boxed().toList());
        expected.remove(Integer.valueOf(1));
        boolean ordered = completed.equals(expected);
        boolean noLeftover = !limiter.tryAcquire();
        boolean holds = allPending && cancelled && restPending && ordered && noLeftover;
        table.row("acquireAsync, fake clock", n + " futures, #1 cancelled, 3 s then " + (n - 4) + " s",
                completed.size() + " completed", (n - 1) + " in order, #1 never", holds ? "as asked" : "WRONG");
        ctx.claim(ASYNC, Verdict.check(holds, String.format("%d futures: all pending on return %s; #1 cancelled"
                        + " %s; after 3 permits exactly #0, #2, #3 done and the rest pending %s; completion order %s"
                        + " (needs %s); no permit left over for the cancelled one: %s", n, allPending, cancelled,
                restPending, shortList(completed), shortList(expected), noLeftover)));
    }

    // ---- virtual threads -------------------------------------------------------------------------------------

    private static void virtualThreads(RunContext ctx, Table.Builder table) throws Exception {
        int n = ctx.intParam("threads");
        // frozen fake clock: tryAcquire from n virtual threads released together
        var clock = new StepClock();
        int burst = 100;
        RateLimiter frozen = RateLimiter.tokenBucket(1, burst, clock);
        var go = new CountDownLatch(1);
        var admitted = new AtomicInteger();
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                vts.submit(() -> {
                    go.await();
                    if (frozen.tryAcquire()) {
                        admitted.incrementAndGet();
                    }
                    return null;
                });
            }
            go.countDown();
        }
        // real time: every thread calls acquire() once
        double rate = ctx.intParam("rate") * 4.0;
        int realBurst = 100;
        long[] times = new long[n];
        long t0 = System.nanoTime();                     // before the bucket exists: the bound is only looser
        RateLimiter live = RateLimiter.tokenBucket(rate, realBurst);
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                int index = i;
                done.add(vts.submit(() -> {
                    live.acquire();
                    times[index] = System.nanoTime();
                    return null;
                }));
            }
        }
        for (Future<?> f : done) {
            f.get();                                      // rethrows a failure; all are done after close()
        }
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        long violations = 0;
        for (int k = 0; k < n; k++) {
            // admission time ≤ the reading after acquire returned: counting by readings can only undercount
            if (k + 1 > realBurst + rate * (sorted[k] - t0) / 1e9 + 1) {
                violations++;
            }
        }
        double elapsed = (sorted[n - 1] - t0) / 1e9;
        double ideal = Math.max(0, n - realBurst) / rate;
        table.row("tryAcquire, " + n + " virtual threads, frozen fake clock", "burst " + burst, admitted.get(),
                        burst, admitted.get() == burst ? "exactly the burst" : "WRONG")
                .row("acquire(), " + n + " virtual threads, real time", String.format("%.0f/s, burst %d", rate,
                        realBurst), n + " in " + String.format("%.3f s", elapsed), String.format("≥ %.3f s, "
                        + "0 above burst + rate × t", ideal), violations + " above");
        ctx.claim(VIRTUAL, Verdict.check(admitted.get() == burst && violations == 0 && elapsed >= ideal,
                String.format("frozen clock: %d of %d virtual threads admitted (needs exactly the burst %d); real"
                                + " time at %.0f/s, burst %d: all %d admitted in %.3f s (needs ≥ %.3f s), admissions"
                                + " above burst + rate × t: %d (needs 0)", admitted.get(), n, burst, rate, realBurst,
                        n, elapsed, ideal, violations)));
    }

    // ---- Broken: check-then-act ------------------------------------------------------------------------------

    /** A counter limiter: at most {@code limit} admissions in all; {@code hook} runs between its read and write. */
    private interface CountingLimiter {
        boolean tryAcquire(Runnable hook);
    }

    /** Broken: reads the count, then (after the hook) increments it; two callers can both pass the check. */
    private static final class CheckThenActLimiter implements CountingLimiter {
        private final AtomicInteger count = new AtomicInteger();
        private final int limit;

        CheckThenActLimiter(int limit) {
            this.limit = limit;
        }

        @Override
        public boolean tryAcquire(Runnable hook) {
            if (count.get() < limit) {
                hook.run();
                count.incrementAndGet();
                return true;
            }
            return false;
        }
    }

    /** Reads the count, then (after the hook, on the first attempt only) compare-and-sets it; retries on a miss. */
    private static final class CasLimiter implements CountingLimiter {
        private final AtomicInteger count = new AtomicInteger();
        private final int limit;

        CasLimiter(int limit) {
            this.limit = limit;
        }

        @Override
        public boolean tryAcquire(Runnable hook) {
            boolean first = true;
            while (true) {
                int current = count.get();
                if (current >= limit) {
                    return false;
                }
                if (first) {
                    hook.run();
                    first = false;
                }
                if (count.compareAndSet(current, current + 1)) {
                    return true;
                }
            }
        }
    }

    /** Two callers of a fresh limit-1 limiter, both held at a barrier after reading the count: admissions. */
    private static int forcedPair(CountingLimiter limiter) throws Exception {
        var barrier = new CyclicBarrier(2);
        Runnable hook = () -> {
            try {
                barrier.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("the forced interleaving broke", e);
            }
        };
        var admitted = new AtomicInteger();
        Thread[] callers = new Thread[2];
        for (int t = 0; t < 2; t++) {
            callers[t] = Thread.ofVirtual().start(() -> {
                if (limiter.tryAcquire(hook)) {
                    admitted.incrementAndGet();
                }
            });
        }
        for (Thread t : callers) {
            t.join(PATIENCE.toMillis());
            if (t.isAlive()) {
                t.interrupt();
                throw new TimeoutException("a forced caller did not finish");
            }
        }
        return admitted.get();
    }

    private static void broken(RunContext ctx, Table.Builder table) throws Exception {
        int trials = ctx.intParam("trials");
        int brokenMin = Integer.MAX_VALUE;
        int casMax = 0;
        int casMin = Integer.MAX_VALUE;
        for (int i = 0; i < trials; i++) {
            ctx.checkCancelled();
            brokenMin = Math.min(brokenMin, forcedPair(new CheckThenActLimiter(1)));
            int cas = forcedPair(new CasLimiter(1));
            casMax = Math.max(casMax, cas);
            casMin = Math.min(casMin, cas);
        }
        table.row("Broken: check-then-act counter", "limit 1, 2 callers, forced, " + trials + " trials",
                        "at least " + brokenMin + " per trial", "1", brokenMin > 1 ? "over the limit" : "held")
                .row("compare-and-set counter (as in the token bucket)", "limit 1, 2 callers, forced, " + trials
                        + " trials", casMin == casMax ? casMin + " per trial" : casMin + ".." + casMax, "1",
                        casMin == 1 && casMax == 1 ? "exact" : "WRONG");
        ctx.claim(BROKEN, Verdict.check(brokenMin > 1 && casMin == 1 && casMax == 1, String.format(
                "%d trials, both callers held between reading the count and writing it: check-then-act admitted at"
                        + " least %d for a limit of 1 on every trial (needs > 1); compare-and-set admitted %d..%d"
                        + " (needs exactly 1)", trials, brokenMin, casMin, casMax)));
    }

    // ---- per key ---------------------------------------------------------------------------------------------

    private static void keyed(RunContext ctx, Table.Builder table) throws Exception {
        int keys = ctx.intParam("keys");
        var clock = new StepClock();
        int burst = 5;
        var keyed = new KeyedRateLimiter<Integer>(() -> RateLimiter.tokenBucket(1, burst, clock),
                Duration.ofSeconds(60), clock);
        for (int k = 0; k < keys; k++) {
            keyed.tryAcquire(k, 1);
        }
        int held = keyed.size();
        clock.advance(Duration.ofSeconds(59));
        int early = keyed.evictIdle();
        clock.advance(Duration.ofSeconds(1));
        int evicted = keyed.evictIdle();
        int after = keyed.size();
        // a caller holds key 0's limiter (latch) across its eviction while the live one spends the burst
        var looked = new CountDownLatch(1);
        var go = new CountDownLatch(1);
        var heldAdmitted = new AtomicInteger();
        Thread holder = Thread.ofVirtual().name("keyed-holder").start(() -> {
            RateLimiter stale = keyed.forKey(-1);
            looked.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            heldAdmitted.set(drain(stale));
        });
        int liveAdmitted = 0;
        int staleEvicted;
        try {
            if (!looked.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                throw new TimeoutException("the holder never looked its limiter up");
            }
            clock.advance(Duration.ofSeconds(61));
            staleEvicted = keyed.evictIdle();
            while (keyed.tryAcquire(-1, 1)) {
                liveAdmitted++;
            }
        } finally {
            go.countDown();
            holder.join(PATIENCE.toMillis());
        }
        int total = liveAdmitted + heldAdmitted.get();
        boolean holds = held == keys && early == 0 && evicted == keys && after == 0 && staleEvicted == 1
                && total == burst;
        table.row("KeyedRateLimiter, fake clock", keys + " keys, idle timeout 60 s, burst " + burst,
                        evicted + " evicted; held-across-eviction key: " + liveAdmitted + " + " + heldAdmitted.get(),
                        keys + " evicted; " + burst + " in all", holds ? "as bounded" : "WRONG");
        ctx.claim(KEYED, Verdict.check(holds, String.format("%d keys held; after 59 s idle %d evicted (needs 0);"
                        + " after 60 s %d evicted, %d left (needs %d, 0); a caller holding a key's limiter across"
                        + " its eviction (%d evicted) got %d while the live limiter gave %d: %d in all (needs the"
                        + " burst %d)", held, early, evicted, after, keys, staleEvicted, heldAdmitted.get(),
                liveAdmitted, total, burst)));
    }

    // ---- CPython ---------------------------------------------------------------------------------------------

    private static void python(RunContext ctx) throws Exception {
        int windowMs = Math.min(ctx.intParam("window-ms"), ctx.quick() ? 400 : 2_000);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("rate_limiter.py", List.of(), Duration.ofSeconds(60),
                "--rate", "500", "--burst", "250", "--tasks", "50", "--window-ms", Integer.toString(windowMs),
                "--permits", "5", "--hold-ms", "2");
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_BUCKET, PY_SEMAPHORE);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                JsonNode bucket = json.path("bucket");
                JsonNode sem = json.path("semaphore");
                long admitted = bucket.path("admitted").asLong();
                double expected = bucket.path("expected").asDouble();
                long over = bucket.path("over_budget").asLong();
                boolean fifo = bucket.path("fifo").asBoolean();
                double error = (admitted - expected) / expected;
                int permits = sem.path("permits").asInt();
                int peak = sem.path("peak_in_flight").asInt();
                double startsPerSecond = sem.path("starts_per_second").asDouble();
                ctx.table(Table.builder(py + ": an asyncio token bucket and asyncio.Semaphore", "variant",
                                "setting", "measured", "bound or expected")
                        .row("asyncio token bucket (time.monotonic, asyncio.Lock, asyncio.sleep)",
                                String.format("%.0f/s, burst %d, %d tasks, %d ms", bucket.path("rate").asDouble(),
                                        bucket.path("burst").asInt(), bucket.path("tasks").asInt(), windowMs),
                                admitted + " admitted, " + over + " above the budget",
                                String.format("%.0f (rate × elapsed after draining)", expected))
                        .row("asyncio.Semaphore(" + permits + "), tasks holding it " + sem.path("hold_ms").asInt()
                                        + " ms", windowMs + " ms", String.format("peak %d in flight, %.0f starts/s",
                                        peak, startsPerSecond), "≤ " + permits + " in flight; the rate is not bounded")
                        .build());
                ctx.claim(PY_BUCKET, Verdict.check(Math.abs(error) <= 0.05 && over == 0, String.format(
                        "after draining, %d admitted in %.3f s vs %.0f = rate × elapsed: error %+.2f %% (needs within ±5 %%); admissions"
                                + " above the budget: %d (needs 0); first acquisitions in task order (asyncio.Lock is"
                                + " FIFO): %s; %s", admitted, bucket.path("elapsed").asDouble(), expected,
                        error * 100, over, fifo, py)));
                ctx.claim(PY_SEMAPHORE, Verdict.check(peak <= permits && startsPerSecond >= 20.0 * permits,
                        String.format("Semaphore(%d): peak %d tasks in flight (needs ≤ %d) but %.0f task starts per"
                                + " second (needs ≥ %d = 20 × k: the semaphore let them start as fast as they"
                                + " finished)", permits, peak, permits, startsPerSecond, 20 * permits)));
            }
        }
    }
}
