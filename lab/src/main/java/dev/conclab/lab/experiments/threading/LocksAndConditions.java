package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The four classic primitives, each in its smallest correct use beside the failure it prevents, forced so that
 * the failure shows on every run.
 *
 * <ol>
 *   <li><b>Lock — mutual exclusion.</b> N threads released at once by a latch try to enter one critical section.
 *       Inside, each stays until every other thread is either inside too or has found the door shut
 *       ({@code tryLock()} failed, so it queued). <b>Without a lock</b> (the BASELINE) all N are inside at once;
 *       <b>with a {@code ReentrantLock}</b> the peak is 1, although N − 1 threads found it shut — they really did
 *       try at the same time.</li>
 *   <li><b>Reentrancy.</b> A {@code ReentrantLock} taken a second time by the thread that holds it succeeds (hold
 *       count 2; it must be unlocked twice). A non-reentrant lock — a {@code Semaphore(1)} used as a lock —
 *       taken again by its holder blocks its own holder: with {@code tryAcquire(timeout)} that shows as
 *       {@code false} after the timeout; with {@code acquire()} it would be a one-thread deadlock. Also shown:
 *       only the owner may unlock a {@code ReentrantLock}, while any thread may release a semaphore permit.</li>
 *   <li><b>Semaphore — capping concurrent access.</b> The same crowd, with a {@code Semaphore(P)} at the door: the
 *       measured peak of concurrent holders is exactly P (against N without it).</li>
 *   <li><b>Condition — waiting for a state.</b> A bounded buffer with {@code notFull} and {@code notEmpty}.
 *       <b>Broken:</b> {@code if (count == 0) notEmpty.await()}. Two consumers wait on an empty buffer (the lab waits
 *       until {@code lock.getWaitQueueLength(notEmpty) == 2}); one put and {@code signalAll} wake both; the first
 *       takes the item, and the second, which does not check again, takes from an empty buffer (an underflow).
 *       The mirror image with two producers and a full buffer overflows it. <b>Correct:</b>
 *       {@code while (count == 0) notEmpty.await()}: the second consumer goes back to waiting (the lab sees the wait
 *       queue at 1 again), and a stress run of producers and consumers never underflows and never holds more than
 *       the capacity. A loop is needed anyway: {@code Condition.await} may wake spuriously.</li>
 * </ol>
 *
 * <p>CPython, through the {@code locks.py} probe: the same four with {@code threading.Lock}, {@code RLock},
 * {@code Semaphore}/{@code BoundedSemaphore} (over-release raises {@code ValueError} only on the bounded one) and
 * {@code Condition} ({@code if} + {@code notify_all} vs {@code wait_for}). Python's {@code Lock} is not reentrant
 * and has no owner; {@code RLock} is reentrant and has one.
 *
 * <p>Run: {@code ./conclab run locks-and-conditions --trace locks.json}. Expect peaks 1 and N for the lock, P and N
 * for the semaphore, hold count 2 and a {@code false} after the timeout for reentrancy, one underflow and one
 * overflow for the Broken buffer and none for the correct one — the same in CPython.
 */
public final class LocksAndConditions implements Experiment {

    static final ClaimSpec MUTEX = new ClaimSpec("mutex",
            "With a lock, the peak number of threads inside the critical section is 1 although all N tried at once;"
                    + " without it, more than one are inside at once.");
    static final ClaimSpec REENTRANT = new ClaimSpec("reentrant",
            "A ReentrantLock taken twice by its holder succeeds (hold count 2); a non-reentrant lock, a Semaphore"
                    + " with one permit, taken again by its holder blocks: tryAcquire with a timeout returns false.");
    static final ClaimSpec SEMAPHORE_CAP = new ClaimSpec("semaphore-cap",
            "A Semaphore with P permits caps concurrent holders at P: the measured peak equals P, against all N"
                    + " tasks at once without it.");
    static final ClaimSpec CONDITION_IF_BROKEN = new ClaimSpec("condition-if-broken",
            "Broken: waiting with if instead of while, one put and signalAll to two waiting consumers makes the"
                    + " second take from an empty buffer.");
    static final ClaimSpec CONDITION_WHILE = new ClaimSpec("condition-while",
            "Waiting in a while loop, the bounded buffer never underflows and never holds more than its capacity.");
    static final ClaimSpec PY_LOCKS = new ClaimSpec("py-locks",
            "In CPython, a threading.Lock keeps the peak inside the critical section at 1 and is not reentrant: its"
                    + " holder's acquire(timeout=...) returns False, while an RLock taken twice by its holder"
                    + " succeeds.");
    static final ClaimSpec PY_SEMAPHORE = new ClaimSpec("py-semaphore",
            "In CPython, a Semaphore with P permits caps the peak of concurrent holders at P; releasing a"
                    + " BoundedSemaphore more often than it was acquired raises ValueError, a plain Semaphore's does"
                    + " not.");
    static final ClaimSpec PY_CONDITION = new ClaimSpec("py-condition",
            "In CPython, waiting on a Condition with if lets notify_all send a second consumer into an empty buffer;"
                    + " wait_for never does.");

    private static final Duration STUCK_AFTER = Duration.ofSeconds(10);

    @Override
    public String id() {
        return "locks-and-conditions";
    }

    @Override
    public String title() {
        return "Lock, reentrant lock, Semaphore and Condition: each beside the failure it prevents";
    }

    @Override
    public String description() {
        return "Forces N threads into one critical section at once with and without a lock and a Semaphore and"
                + " measures the peak inside, takes a ReentrantLock and a one-permit Semaphore twice from the same"
                + " thread, and wakes two consumers of a bounded buffer that wait with if (Broken) and with while;"
                + " then the same four in CPython.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "threads released at once at the door (N)", 2, 64, 8, 4),
                new Param.IntParam("permits", "permits of the Semaphore (P)", 1, 32, 3, 2),
                new Param.IntParam("self-wait-ms", "how long the holder of a non-reentrant lock tries to take it"
                        + " again", 1, 5_000, 200, 50),
                new Param.IntParam("items", "items each producer puts in the stress run of the correct buffer", 1,
                        10_000_000, 200_000, 20_000),
                new Param.IntParam("capacity", "capacity of the bounded buffer in the stress run", 1, 1_024, 4, 2));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(MUTEX, REENTRANT, SEMAPHORE_CAP, CONDITION_IF_BROKEN, CONDITION_WHILE, PY_LOCKS,
                PY_SEMAPHORE, PY_CONDITION);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int threads = ctx.intParam("threads");
        int permits = ctx.intParam("permits");
        Table.Builder crowdTable = Table.builder("N threads at one door, released at once by a latch", "door",
                "threads (N)", "peak inside at once", "found the door shut and queued", "allowed by the door");

        ctx.progress(0.05, "mutual exclusion");
        Crowd open = crowd(ctx, Door.open(), threads);
        Crowd locked = crowd(ctx, Door.lock(new ReentrantLock()), threads);
        crowdTable.row("none (baseline)", threads, open.peak(), open.foundShut(), "any number")
                .row("ReentrantLock", threads, locked.peak(), locked.foundShut(), 1);
        ctx.claim(MUTEX, Verdict.check(locked.peak() == 1 && locked.foundShut() == threads - 1 && open.peak() > 1,
                String.format("with the lock: peak %d inside, %d of the other %d found it shut; without: peak %d"
                        + " (needs 1, all %d, and > 1)", locked.peak(), locked.foundShut(), threads - 1, open.peak(),
                        threads - 1)));

        ctx.progress(0.2, "semaphore");
        Crowd capped = crowd(ctx, Door.semaphore(new Semaphore(permits)), threads);
        crowdTable.row("Semaphore(" + permits + ")", threads, capped.peak(), capped.foundShut(), permits);
        int expectedPeak = Math.min(permits, threads);
        ctx.claim(SEMAPHORE_CAP, Verdict.check(capped.peak() == expectedPeak && open.peak() == threads,
                String.format("Semaphore(%d): peak %d concurrent holders (needs exactly min(P, N) = %d); no door:"
                        + " peak %d of %d", permits, capped.peak(), expectedPeak, open.peak(), threads)));
        ctx.table(crowdTable.build());

        ctx.progress(0.3, "reentrancy");
        reentrancy(ctx);

        ctx.progress(0.4, "condition: if vs while");
        conditions(ctx);

        ctx.progress(0.65, "CPython: Lock, RLock, Semaphore, Condition");
        python(ctx, threads, permits);
        ctx.progress(1, "done");
    }

    // ---- 1 and 3: a crowd at a door ----------------------------------------------------------------------------

    /** What guards the critical section: nothing, a lock, or a semaphore. */
    private interface Door {
        boolean tryEnter();

        void enter() throws InterruptedException;

        void leave();

        static Door open() {
            return new Door() {
                public boolean tryEnter() {
                    return true;
                }

                public void enter() {
                }

                public void leave() {
                }
            };
        }

        static Door lock(ReentrantLock lock) {
            return new Door() {
                public boolean tryEnter() {
                    return lock.tryLock();
                }

                public void enter() throws InterruptedException {
                    lock.lockInterruptibly();
                }

                public void leave() {
                    lock.unlock();
                }
            };
        }

        static Door semaphore(Semaphore semaphore) {
            return new Door() {
                public boolean tryEnter() {
                    return semaphore.tryAcquire();
                }

                public void enter() throws InterruptedException {
                    semaphore.acquire();
                }

                public void leave() {
                    semaphore.release();
                }
            };
        }
    }

    /** The peak number inside at once, and how many found the door shut on their first try. */
    record Crowd(int peak, int foundShut) {
    }

    /**
     * The crowd's bookkeeping, guarded by {@code lock}. A thread inside stays until everyone is accounted for:
     * inside, queued at the door, or finished. So the peak is as high as the door allows, on every run, with no
     * sleep deciding it.
     */
    private static final class Census {
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        int inside;
        int queued;
        int finished;
        int peak;
        int foundShut;
    }

    private static Crowd crowd(RunContext ctx, Door door, int n) throws Exception {
        Census census = new Census();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>(n);
        List<Throwable> errors = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                threads.add(Thread.ofPlatform().name("crowd-", i).start(() -> {
                    try {
                        visit(door, census, start, n);
                    } catch (InterruptedException e) {
                        // the run was stopped
                    } catch (RuntimeException e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                }));
            }
            start.countDown();
            joinAll(threads);
        } finally {
            threads.forEach(Thread::interrupt);
            joinAll(threads);
        }
        ctx.checkCancelled();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a crowd thread failed", errors.getFirst());
        }
        return new Crowd(census.peak, census.foundShut);
    }

    private static void visit(Door door, Census census, CountDownLatch start, int n) throws InterruptedException {
        start.await();
        if (!door.tryEnter()) {
            update(census, () -> {
                census.queued++;
                census.foundShut++;
            });
            door.enter();
            update(census, () -> {
                census.queued--;
                census.inside++;
            });
        } else {
            update(census, () -> census.inside++);
        }
        try {
            census.lock.lock();
            try {
                census.peak = Math.max(census.peak, census.inside);
                long left = STUCK_AFTER.toNanos();
                while (census.inside + census.queued + census.finished < n) {
                    if (left <= 0) {
                        throw new IllegalStateException("the crowd did not gather within " + STUCK_AFTER);
                    }
                    left = census.changed.awaitNanos(left);
                }
                census.inside--;
                census.finished++;
                census.changed.signalAll();
            } finally {
                census.lock.unlock();
            }
        } finally {
            door.leave();
        }
    }

    private static void update(Census census, Runnable change) {
        census.lock.lock();
        try {
            change.run();
            census.peak = Math.max(census.peak, census.inside);
            census.changed.signalAll();
        } finally {
            census.lock.unlock();
        }
    }

    private static void joinAll(List<Thread> threads) throws InterruptedException {
        long deadline = System.nanoTime() + STUCK_AFTER.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Duration.ofNanos(left));
            }
        }
    }

    // ---- 2: reentrancy ------------------------------------------------------------------------------------------

    private static void reentrancy(RunContext ctx) throws Exception {
        long selfWaitMs = ctx.intParam("self-wait-ms");
        ReentrantLock reentrant = new ReentrantLock();
        reentrant.lock();
        boolean again = reentrant.tryLock(); // the holder asks again: granted at once
        int holdCount = reentrant.getHoldCount();
        reentrant.unlock();
        int afterOneUnlock = reentrant.getHoldCount();
        boolean stillLocked = reentrant.isLocked();
        if (again) {
            reentrant.unlock();
        }
        boolean freeAfterTwo = !reentrant.isLocked();

        Semaphore asLock = new Semaphore(1);
        asLock.acquire();
        long from = System.nanoTime();
        boolean selfAgain = asLock.tryAcquire(selfWaitMs, TimeUnit.MILLISECONDS); // its own holder blocks it
        double waitedMs = (System.nanoTime() - from) / 1e6;
        if (selfAgain) {
            asLock.release();
        }

        // Ownership: only the holder may unlock a ReentrantLock; any thread may release a permit.
        reentrant.lock();
        String foreignUnlock;
        try {
            foreignUnlock = onAnotherThread(() -> {
                try {
                    reentrant.unlock();
                    return "unlocked";
                } catch (IllegalMonitorStateException e) {
                    return "IllegalMonitorStateException";
                }
            });
        } finally {
            reentrant.unlock();
        }
        String foreignRelease = onAnotherThread(() -> {
            asLock.release();
            return "released (permits now " + asLock.availablePermits() + ")";
        });

        ctx.table(Table.builder("The holder takes its lock again", "lock", "second take by the holder",
                        "hold count", "after one unlock", "unlock/release from another thread")
                .row("ReentrantLock", again ? "granted at once" : "refused", holdCount,
                        afterOneUnlock + (stillLocked ? " (still locked)" : " (free)")
                                + (freeAfterTwo ? "; free after the second" : ""), foreignUnlock)
                .row("Semaphore(1) as a lock", String.format("tryAcquire(%d ms) → %s after %.1f ms", selfWaitMs,
                        selfAgain, waitedMs), "—", "—", foreignRelease)
                .build());
        ctx.claim(REENTRANT, Verdict.check(again && holdCount == 2 && stillLocked && freeAfterTwo && !selfAgain
                        && waitedMs >= selfWaitMs - 1,
                String.format("ReentrantLock: second take %s, hold count %d, still locked after one unlock: %s;"
                                + " Semaphore(1): its holder's tryAcquire(%d ms) → %s after %.1f ms (needs granted, 2,"
                                + " true; false after the timeout)", again ? "granted" : "refused", holdCount,
                        stillLocked, selfWaitMs, selfAgain, waitedMs)));
    }

    private static String onAnotherThread(Callable<String> action) throws Exception {
        try (var one = Executors.newSingleThreadExecutor()) {
            return one.submit(action).get(STUCK_AFTER.toSeconds(), TimeUnit.SECONDS);
        }
    }

    // ---- 4: condition variables ---------------------------------------------------------------------------------

    /**
     * A bounded buffer guarded by one lock with two conditions. The correct version waits in a {@code while} loop;
     * the Broken one waits with {@code if} and so acts on a state that may have changed while it slept. Instead of
     * corrupting itself, the buffer counts every take from an empty buffer (underflow) and every put into a full one
     * (overflow). Thread-safe.
     */
    static final class BoundedBuffer {
        final ReentrantLock lock = new ReentrantLock();
        final Condition notFull = lock.newCondition();
        final Condition notEmpty = lock.newCondition();
        private final long[] items;
        private final boolean waitWithIf;
        private int head;
        private int count;
        private int maxCount;
        private int underflows;
        private int overflows;

        BoundedBuffer(int capacity, boolean waitWithIf) {
            this.items = new long[capacity];
            this.waitWithIf = waitWithIf;
        }

        void put(long item) throws InterruptedException {
            lock.lock();
            try {
                if (waitWithIf) {
                    if (count == items.length) {
                        notFull.await(); // Broken: after waking, the buffer may be full again
                    }
                } else {
                    while (count == items.length) {
                        notFull.await();
                    }
                }
                if (count == items.length) {
                    overflows++; // would overwrite an item no one has taken
                    return;
                }
                items[(head + count) % items.length] = item;
                count++;
                maxCount = Math.max(maxCount, count);
                notEmpty.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** The oldest item, or {@code null} when the Broken version took from an empty buffer. */
        Long take() throws InterruptedException {
            lock.lock();
            try {
                if (waitWithIf) {
                    if (count == 0) {
                        notEmpty.await(); // Broken: after waking, another consumer may have taken the item
                    }
                } else {
                    while (count == 0) {
                        notEmpty.await();
                    }
                }
                if (count == 0) {
                    underflows++;
                    return null;
                }
                long item = items[head];
                head = (head + 1) % items.length;
                count--;
                notFull.signalAll();
                return item;
            } finally {
                lock.unlock();
            }
        }

        int waitingOn(Condition condition) {
            lock.lock();
            try {
                return lock.getWaitQueueLength(condition);
            } finally {
                lock.unlock();
            }
        }

        <T> T read(Supplier<T> what) {
            lock.lock();
            try {
                return what.get();
            } finally {
                lock.unlock();
            }
        }

        int underflows() {
            return read(() -> underflows);
        }

        int overflows() {
            return read(() -> overflows);
        }

        int maxCount() {
            return read(() -> maxCount);
        }

        int capacity() {
            return items.length;
        }
    }

    /** What the two-waiters scenario showed. */
    record Wakeup(int underflows, int overflows, boolean secondWentBackToWaiting) {
    }

    private static void conditions(RunContext ctx) throws Exception {
        Wakeup brokenTake = twoConsumers(ctx, true);
        Wakeup correctTake = twoConsumers(ctx, false);
        Wakeup brokenPut = twoProducers(ctx, true);
        Wakeup correctPut = twoProducers(ctx, false);
        Stress stress = stress(ctx, ctx.intParam("capacity"), ctx.intParam("items"));

        ctx.table(Table.builder("Bounded buffer: two waiters woken by one signalAll", "waiting with", "scenario",
                        "underflows", "overflows", "second waiter went back to waiting")
                .row("if (Broken)", "2 consumers wait on empty; 1 put", brokenTake.underflows(),
                        brokenTake.overflows(), brokenTake.secondWentBackToWaiting())
                .row("while", "2 consumers wait on empty; 1 put", correctTake.underflows(), correctTake.overflows(),
                        correctTake.secondWentBackToWaiting())
                .row("if (Broken)", "2 producers wait on full (capacity 1); 1 take", brokenPut.underflows(),
                        brokenPut.overflows(), brokenPut.secondWentBackToWaiting())
                .row("while", "2 producers wait on full (capacity 1); 1 take", correctPut.underflows(),
                        correctPut.overflows(), correctPut.secondWentBackToWaiting())
                .row("while", String.format("stress: 2 producers × %d items, 2 consumers, capacity %d",
                        stress.itemsEach(), stress.capacity()), stress.underflows(), stress.overflows(),
                        "max held " + stress.maxHeld() + ", all delivered once: " + stress.allDelivered())
                .build());
        ctx.claim(CONDITION_IF_BROKEN, Verdict.check(brokenTake.underflows() == 1, String.format(
                "with if: %d underflow(s) after one put woke two waiting consumers (needs exactly 1); the producer"
                        + " mirror image overflowed %d time(s)", brokenTake.underflows(), brokenPut.overflows())));
        boolean correct = correctTake.underflows() == 0 && correctTake.secondWentBackToWaiting()
                && correctPut.overflows() == 0 && correctPut.secondWentBackToWaiting()
                && stress.underflows() == 0 && stress.overflows() == 0 && stress.maxHeld() <= stress.capacity()
                && stress.allDelivered();
        ctx.claim(CONDITION_WHILE, Verdict.check(correct, String.format(
                "with while: the second consumer went back to waiting (%s), no underflow (%d); the second producer"
                        + " went back to waiting (%s), no overflow (%d); stress of %d items: %d underflows, %d"
                        + " overflows, at most %d held of capacity %d, every item delivered exactly once: %s",
                correctTake.secondWentBackToWaiting(), correctTake.underflows(),
                correctPut.secondWentBackToWaiting(), correctPut.overflows(), 2L * stress.itemsEach(),
                stress.underflows(), stress.overflows(), stress.maxHeld(), stress.capacity(),
                stress.allDelivered())));
    }

    /** Two consumers wait on an empty buffer; one put with signalAll wakes both. */
    private static Wakeup twoConsumers(RunContext ctx, boolean waitWithIf) throws Exception {
        BoundedBuffer buffer = new BoundedBuffer(1, waitWithIf);
        String variant = waitWithIf ? "if (Broken)" : "while";
        List<Thread> consumers = new ArrayList<>();
        AtomicLong done = new AtomicLong();
        try {
            for (int i = 1; i <= 2; i++) {
                String lane = "condition, " + variant + " · consumer-" + i;
                consumers.add(Thread.ofPlatform().name("consumer-" + i).start(() -> {
                    long from = System.nanoTime();
                    try {
                        Long item = buffer.take();
                        ctx.trace().span(lane, item == null ? "take() → empty buffer: underflow"
                                : "take() → item " + item, from, System.nanoTime());
                    } catch (InterruptedException e) {
                        ctx.trace().span(lane, "take() — interrupted", from, System.nanoTime());
                    }
                    done.incrementAndGet();
                }));
            }
            awaitTrue(ctx, () -> buffer.waitingOn(buffer.notEmpty) == 2);
            long put = System.nanoTime();
            buffer.put(42);
            ctx.trace().span("condition, " + variant + " · main", "put(42) + signalAll", put, System.nanoTime());
            boolean backToWaiting = false;
            if (!waitWithIf) {
                // One consumer got the item; the other must be waiting again, not returned.
                awaitTrue(ctx, () -> done.get() == 1 && buffer.waitingOn(buffer.notEmpty) == 1);
                backToWaiting = true;
                buffer.put(43);
            }
            joinAll(consumers);
            return new Wakeup(buffer.underflows(), buffer.overflows(), backToWaiting);
        } finally {
            consumers.forEach(Thread::interrupt);
            joinAll(consumers);
        }
    }

    /** Two producers wait on a full buffer of capacity 1; one take with signalAll wakes both. */
    private static Wakeup twoProducers(RunContext ctx, boolean waitWithIf) throws Exception {
        BoundedBuffer buffer = new BoundedBuffer(1, waitWithIf);
        buffer.put(0);
        List<Thread> producers = new ArrayList<>();
        AtomicLong done = new AtomicLong();
        try {
            for (int i = 1; i <= 2; i++) {
                long item = i;
                producers.add(Thread.ofPlatform().name("producer-" + i).start(() -> {
                    try {
                        buffer.put(item);
                    } catch (InterruptedException e) {
                        // stopped
                    }
                    done.incrementAndGet();
                }));
            }
            awaitTrue(ctx, () -> buffer.waitingOn(buffer.notFull) == 2);
            buffer.take();
            boolean backToWaiting = false;
            if (!waitWithIf) {
                awaitTrue(ctx, () -> done.get() == 1 && buffer.waitingOn(buffer.notFull) == 1);
                backToWaiting = true;
                buffer.take();
            }
            joinAll(producers);
            return new Wakeup(buffer.underflows(), buffer.overflows(), backToWaiting);
        } finally {
            producers.forEach(Thread::interrupt);
            joinAll(producers);
        }
    }

    record Stress(int capacity, int itemsEach, int underflows, int overflows, int maxHeld, boolean allDelivered) {
    }

    /** Two producers and two consumers through the correct buffer; sums check that each item arrives once. */
    private static Stress stress(RunContext ctx, int capacity, int itemsEach) throws Exception {
        BoundedBuffer buffer = new BoundedBuffer(capacity, false);
        AtomicLong sum = new AtomicLong();
        AtomicLong received = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int p = 0; p < 2; p++) {
                long base = (long) p * itemsEach;
                threads.add(Thread.ofPlatform().name("stress-producer-" + p).start(() -> {
                    try {
                        for (long i = 1; i <= itemsEach; i++) {
                            buffer.put(base + i);
                        }
                    } catch (InterruptedException e) {
                        // stopped
                    }
                }));
            }
            for (int c = 0; c < 2; c++) {
                threads.add(Thread.ofPlatform().name("stress-consumer-" + c).start(() -> {
                    try {
                        for (int i = 0; i < itemsEach; i++) {
                            Long item = buffer.take();
                            if (item != null) {
                                sum.addAndGet(item);
                                received.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        // stopped
                    }
                }));
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            for (Thread t : threads) {
                while (t.isAlive()) {
                    ctx.checkCancelled();
                    t.join(Duration.ofMillis(100));
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the stress run did not finish");
                    }
                }
            }
        } finally {
            threads.forEach(Thread::interrupt);
            joinAll(threads);
        }
        long n = 2L * itemsEach;
        boolean allDelivered = received.get() == n && sum.get() == n * (n + 1) / 2;
        return new Stress(capacity, itemsEach, buffer.underflows(), buffer.overflows(), buffer.maxCount(),
                allDelivered);
    }

    /** Polls a condition the lab cannot be signalled about (a wait queue's length) until it holds. */
    private static void awaitTrue(RunContext ctx, BooleanSupplier condition) {
        long deadline = System.nanoTime() + STUCK_AFTER.toNanos();
        while (!condition.getAsBoolean()) {
            ctx.checkCancelled();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the threads did not reach the expected state within "
                        + STUCK_AFTER);
            }
            LockSupport.parkNanos(50_000);
        }
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int threads, int permits) throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("locks.py", List.of(), Duration.ofSeconds(60),
                "--threads", Integer.toString(threads),
                "--permits", Integer.toString(permits),
                "--self-wait-ms", Integer.toString(ctx.intParam("self-wait-ms")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_LOCKS, PY_SEMAPHORE, PY_CONDITION);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode crowd = json.path("crowd");
                JsonNode reentrancy = json.path("reentrancy");
                JsonNode bounded = json.path("bounded_semaphore");
                JsonNode condition = json.path("condition");
                int noLock = crowd.path("no_lock_peak").asInt(-1);
                int lockPeak = crowd.path("lock_peak").asInt(-1);
                int lockShut = crowd.path("lock_found_shut").asInt(-1);
                int semPeak = crowd.path("semaphore_peak").asInt(-1);
                boolean lockAgain = reentrancy.path("lock_acquire_again").asBoolean(true);
                double lockWaited = reentrancy.path("lock_waited_ms").asDouble();
                boolean rlockAgain = reentrancy.path("rlock_acquire_again").asBoolean(false);
                String boundedError = bounded.path("bounded_over_release").asText();
                String plainOver = bounded.path("plain_over_release").asText();
                int ifUnder = condition.path("if_underflows").asInt(-1);
                int waitForUnder = condition.path("wait_for_underflows").asInt(-1);
                boolean waitForRewaited = condition.path("wait_for_second_waited_again").asBoolean(false);

                ctx.table(Table.builder("CPython " + ran.interpreter().version() + ": the same four", "primitive",
                                "what was done", "result")
                        .row("none", threads + " threads at once in the critical section", "peak " + noLock)
                        .row("threading.Lock", threads + " threads at once", "peak " + lockPeak + "; " + lockShut
                                + " found it shut")
                        .row("threading.Semaphore(" + permits + ")", threads + " threads at once", "peak "
                                + semPeak)
                        .row("threading.Lock", "holder calls acquire(timeout=" + ctx.intParam("self-wait-ms")
                                + " ms)", lockAgain + String.format(" after %.1f ms", lockWaited))
                        .row("threading.RLock", "holder calls acquire() again", rlockAgain + ", recursion depth "
                                + reentrancy.path("rlock_depth").asInt())
                        .row("threading.BoundedSemaphore(1)", "release() without acquire()", boundedError)
                        .row("threading.Semaphore(1)", "release() without acquire()", plainOver)
                        .row("Condition, if (Broken)", "2 consumers wait; 1 put + notify_all", ifUnder
                                + " underflow(s)")
                        .row("Condition.wait_for", "2 consumers wait; 1 put + notify_all", waitForUnder
                                + " underflow(s); second waited again: " + waitForRewaited)
                        .build());
                ctx.claim(PY_LOCKS, Verdict.check(lockPeak == 1 && lockShut == threads - 1 && noLock > 1 && !lockAgain
                                && rlockAgain, String.format("Lock: peak %d, %d of %d found it shut; no lock: peak"
                                + " %d; Lock's holder acquire(timeout) → %s after %.1f ms; RLock's holder acquire()"
                                + " → %s (needs 1, %d, > 1, False, True)", lockPeak, lockShut, threads - 1, noLock,
                        lockAgain, lockWaited, rlockAgain, threads - 1)));
                int expectedPeak = Math.min(permits, threads);
                ctx.claim(PY_SEMAPHORE, Verdict.check(semPeak == expectedPeak
                                && boundedError.startsWith("ValueError") && plainOver.startsWith("no error"),
                        String.format("Semaphore(%d): peak %d (needs %d); BoundedSemaphore over-release: %s; plain"
                                + " Semaphore over-release: %s", permits, semPeak, expectedPeak, boundedError,
                                plainOver)));
                ctx.claim(PY_CONDITION, Verdict.check(ifUnder == 1 && waitForUnder == 0 && waitForRewaited,
                        String.format("with if: %d underflow(s) (needs 1); with wait_for: %d (needs 0), and the"
                                + " second consumer waited again: %s", ifUnder, waitForUnder, waitForRewaited)));
            }
        }
    }
}
