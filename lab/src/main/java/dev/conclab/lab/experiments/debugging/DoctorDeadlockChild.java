package dev.conclab.lab.experiments.debugging;

import dev.conclab.toolkit.diagnostics.doctor.SickJvm;
import dev.conclab.toolkit.process.ParentWatch;

import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The child JVM of {@link DoctorDeadlock}: two workers move money between accounts A and B, each holding both
 * accounts' locks, in one of three ways ({@code args[0]}):
 * <ul>
 *   <li>{@code opposite} (Broken): {@code transfer-a-to-b} locks A then B, {@code transfer-b-to-a} locks B then A.
 *       A latch opens only when each has made its first move, so both hold their first lock when they ask for the
 *       second: a deadlock on every run. The child reports once both locks have a queued thread.</li>
 *   <li>{@code ordered}: the same two workers, each taking the lower-numbered account first (one global order). The
 *       second worker's first move is to queue for A: no circular wait.</li>
 *   <li>{@code trylock}: the opposite orders, but the second lock is asked for with {@code tryLock(timeout)}; a worker
 *       that times out releases its first lock, backs off (1× and 3× the timeout: different, so that the two do not
 *       retry in lock-step) and retries.</li>
 * </ul>
 * It prints {@code RESULT finished=<bool> retries=<n>} (fixed modes) and then {@value SickJvm#READY}, and keeps its
 * state (the deadlock, or the finished workers) until destroyed; it exits by itself when its parent dies
 * ({@link ParentWatch}). The workers are daemon platform threads named as above.
 */
public final class DoctorDeadlockChild {

    /** How long a fixed mode's workers get to finish before the child reports them unfinished. */
    private static final long FINISH_WITHIN_SECONDS = 10;
    private static final long TRY_TIMEOUT_MS = 20;

    /** An account guarded by its own lock; {@code id} gives the global lock order. */
    record Account(int id, AccountLock lock) {
        Account(int id) {
            this(id, new AccountLock());
        }
    }

    /** A ReentrantLock that can tell whether a given thread holds it (its owner is protected). Thread-safe. */
    static final class AccountLock extends ReentrantLock {
        boolean heldBy(Thread thread) {
            return getOwner() == thread;
        }
    }

    private DoctorDeadlockChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        ParentWatch.exitWithParent();
        String mode = args.length > 0 ? args[0].toLowerCase(Locale.ROOT) : "";
        if (!mode.equals("opposite") && !mode.equals("ordered") && !mode.equals("trylock")) {
            throw new IllegalArgumentException("mode must be opposite, ordered or trylock: " + mode);
        }
        Account a = new Account(1);
        Account b = new Account(2);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger retries = new AtomicInteger();
        Thread first = worker("transfer-a-to-b", mode, a, b, go, retries, 1);
        Thread second = worker("transfer-b-to-a", mode, b, a, go, retries, 3);
        // Open the latch once each worker holds its first lock or is queued for it.
        awaitFirstMove(first, a);
        awaitFirstMove(second, mode.equals("ordered") ? a : b);
        go.countDown();
        if (mode.equals("opposite")) {
            while (!a.lock().hasQueuedThreads() || !b.lock().hasQueuedThreads()) {
                Thread.onSpinWait(); // both hold one lock and queue for the other: the cycle is closed
            }
        } else {
            first.join(TimeUnit.SECONDS.toMillis(FINISH_WITHIN_SECONDS));
            second.join(TimeUnit.SECONDS.toMillis(FINISH_WITHIN_SECONDS));
            System.out.println("RESULT finished=" + (!first.isAlive() && !second.isAlive()) + " retries="
                    + retries.get());
        }
        System.out.println(SickJvm.READY);
        System.out.flush();
        new CountDownLatch(1).await(); // keep the state for the doctor until destroyed
    }

    private static void awaitFirstMove(Thread worker, Account first) {
        while (!first.lock().heldBy(worker) && !first.lock().hasQueuedThread(worker)) {
            Thread.onSpinWait();
        }
    }

    private static Thread worker(String name, String mode, Account from, Account to, CountDownLatch go,
                                 AtomicInteger retries, int backOffFactor) {
        Runnable body = switch (mode) {
            case "opposite" -> () -> transfer(from, to, go);
            case "ordered" -> () -> transfer(from.id() < to.id() ? from : to, from.id() < to.id() ? to : from, go);
            default -> () -> transferWithTryLock(from, to, go, retries, backOffFactor);
        };
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Takes {@code first}, waits for the latch, then takes {@code second}: the line a deadlock waits at. */
    private static void transfer(Account first, Account second, CountDownLatch go) {
        first.lock().lock();
        try {
            awaitQuietly(go);
            second.lock().lock(); // Broken in opposite orders: the other worker holds it and waits for ours
            second.lock().unlock();
        } finally {
            first.lock().unlock();
        }
    }

    private static void transferWithTryLock(Account first, Account second, CountDownLatch go, AtomicInteger retries,
                                            int backOffFactor) {
        boolean waited = false;
        while (true) {
            first.lock().lock();
            try {
                if (!waited) {
                    awaitQuietly(go); // only the first attempt follows the forced schedule
                    waited = true;
                }
                if (second.lock().tryLock(TRY_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    second.lock().unlock();
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                first.lock().unlock();
            }
            retries.incrementAndGet();
            try {
                Thread.sleep(TRY_TIMEOUT_MS * backOffFactor); // back off, by a different time than the other
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
