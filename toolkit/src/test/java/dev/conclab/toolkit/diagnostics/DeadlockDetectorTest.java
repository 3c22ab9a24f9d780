package dev.conclab.toolkit.diagnostics;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeadlockDetectorTest {

    private final DeadlockDetector detector = DeadlockDetector.ofThisJvm();
    private final List<Thread> started = new ArrayList<>();

    /** Every test's threads end: interrupting breaks lockInterruptibly, semaphore and latch waits alike. */
    @AfterEach
    void stopThreads() throws InterruptedException {
        for (Thread t : started) {
            t.interrupt();
        }
        for (Thread t : started) {
            t.join(5_000);
            assertThat(t.isAlive()).as(t.getName() + " still running").isFalse();
        }
    }

    private Thread start(String name, Runnable body) {
        Thread t = Thread.ofPlatform().name(name).daemon(true).start(body);
        started.add(t);
        return t;
    }

    /** Takes {@code first}, waits until both threads hold their first lock, then asks for {@code second}. */
    private static Runnable takeBoth(ReentrantLock first, ReentrantLock second, CountDownLatch bothHoldFirst) {
        return () -> {
            try {
                first.lockInterruptibly();
                try {
                    bothHoldFirst.countDown();
                    bothHoldFirst.await();
                    second.lockInterruptibly();
                    second.unlock();
                } finally {
                    first.unlock();
                }
            } catch (InterruptedException e) {
                // broken out of the deadlock by the test
            }
        };
    }

    @Test
    void findsALockOrderingDeadlockAndNamesBothThreadsAndLocks() throws Exception {
        ReentrantLock a = new ReentrantLock();
        ReentrantLock b = new ReentrantLock();
        CountDownLatch bothHoldFirst = new CountDownLatch(2);
        Thread one = start("dd-test-one", takeBoth(a, b, bothHoldFirst));
        Thread two = start("dd-test-two", takeBoth(b, a, bothHoldFirst));

        Optional<DeadlockReport> found = detector.awaitDeadlock(Duration.ofSeconds(10), one, two);

        assertThat(found).isPresent();
        DeadlockReport.Cycle cycle = found.get().cycleOf(one, two).orElseThrow();
        assertThat(cycle.links()).hasSize(2);
        DeadlockReport.Link oneWaits = cycle.linkOf(one.threadId()).orElseThrow();
        DeadlockReport.Link twoWaits = cycle.linkOf(two.threadId()).orElseThrow();
        assertThat(oneWaits.threadName()).isEqualTo("dd-test-one");
        assertThat(oneWaits.ownerName()).isEqualTo("dd-test-two");
        assertThat(twoWaits.ownerName()).isEqualTo("dd-test-one");
        assertThat(oneWaits.waitsFor().kind()).isEqualTo(LockRef.Kind.OWNABLE_SYNCHRONIZER);
        // each waits for exactly the lock the other holds, and the two locks differ
        assertThat(detector.locksHeldBy(two)).containsExactly(oneWaits.waitsFor());
        assertThat(detector.locksHeldBy(one)).containsExactly(twoWaits.waitsFor());
        assertThat(oneWaits.waitsFor()).isNotEqualTo(twoWaits.waitsFor());
        assertThat(oneWaits.waitingAt()).isNotNull();
        assertThat(found.get().toString()).contains("dd-test-one", "dd-test-two");
    }

    @Test
    void findsACycleThroughAMonitorAndAReentrantLock() throws Exception {
        // A thread BLOCKED entering a monitor cannot be interrupted, so the cycle mixes one monitor with one
        // ReentrantLock: interrupting the thread that waits for the ReentrantLock breaks it and frees the monitor.
        Object monitor = new Object();
        ReentrantLock lock = new ReentrantLock();
        CountDownLatch bothHoldFirst = new CountDownLatch(2);
        Thread inMonitor = start("dd-test-in-monitor", () -> {
            synchronized (monitor) {
                try {
                    bothHoldFirst.countDown();
                    bothHoldFirst.await();
                    lock.lockInterruptibly();
                    lock.unlock();
                } catch (InterruptedException e) {
                    // broken out of the deadlock by the test
                }
            }
        });
        Thread inLock = start("dd-test-in-lock", () -> {
            lock.lock();
            try {
                bothHoldFirst.countDown();
                bothHoldFirst.await();
                synchronized (monitor) {
                    monitor.hashCode();
                }
            } catch (InterruptedException e) {
                // not expected: this thread waits for the monitor after the latch
            } finally {
                lock.unlock();
            }
        });

        DeadlockReport.Cycle cycle = detector.awaitDeadlock(Duration.ofSeconds(10), inMonitor, inLock)
                .orElseThrow().cycleOf(inMonitor, inLock).orElseThrow();

        DeadlockReport.Link blocked = cycle.linkOf(inLock.threadId()).orElseThrow();
        assertThat(blocked.state()).isEqualTo(Thread.State.BLOCKED);
        assertThat(blocked.waitsFor().isMonitorOf(monitor)).isTrue();
        assertThat(blocked.ownerName()).isEqualTo("dd-test-in-monitor");
        assertThat(cycle.linkOf(inMonitor.threadId()).orElseThrow().waitsFor().kind())
                .isEqualTo(LockRef.Kind.OWNABLE_SYNCHRONIZER);
        assertThat(detector.locksHeldBy(inMonitor)).anySatisfy(l -> assertThat(l.isMonitorOf(monitor)).isTrue());

        inMonitor.interrupt(); // breaks the cycle: the monitor is released, and the other thread gets it
        inLock.join(5_000);
        assertThat(inLock.isAlive()).isFalse();
        assertThat(detector.detect().hasCycleOf(inMonitor, inLock)).isFalse();
    }

    @Test
    void reportsNothingWhenThreadsOnlyContend() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        start("dd-test-holder", () -> {
            lock.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                // ends the test
            } finally {
                lock.unlock();
            }
        });
        held.await();
        Thread waiter = start("dd-test-waiter", () -> {
            try {
                lock.lockInterruptibly();
                lock.unlock();
            } catch (InterruptedException e) {
                // ends the test
            }
        });
        while (!lock.hasQueuedThread(waiter)) {
            Thread.onSpinWait();
        }
        // a thread waiting for a held lock is contention, not a deadlock: its owner can still proceed
        assertThat(detector.awaitDeadlock(Duration.ofMillis(200), waiter)).isEmpty();
        assertThat(detector.detect().hasCycleOf(waiter)).isFalse();
        release.countDown();
    }

    @Test
    void cannotSeeAStallThroughASemaphore() throws Exception {
        // Two threads, each holding the one permit of its semaphore and waiting for the other's: stuck for ever,
        // but permits have no owner, so the JVM sees no cycle.
        Semaphore a = new Semaphore(1);
        Semaphore b = new Semaphore(1);
        CountDownLatch bothHoldFirst = new CountDownLatch(2);
        Thread one = start("dd-test-sem-one", () -> crossAcquire(a, b, bothHoldFirst));
        Thread two = start("dd-test-sem-two", () -> crossAcquire(b, a, bothHoldFirst));
        while (!(a.hasQueuedThreads() && b.hasQueuedThreads())) {
            Thread.onSpinWait();
        }
        assertThat(detector.awaitDeadlock(Duration.ofMillis(200), one, two)).isEmpty();
    }

    private static void crossAcquire(Semaphore first, Semaphore second, CountDownLatch bothHoldFirst) {
        try {
            first.acquire();
            try {
                bothHoldFirst.countDown();
                bothHoldFirst.await();
                second.acquire();
                second.release();
            } finally {
                first.release();
            }
        } catch (InterruptedException e) {
            // broken out by the test
        }
    }

    @Test
    void awaitingIsInterruptible() throws Exception {
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> detector.awaitDeadlock(Duration.ofSeconds(10)))
                .isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
    }

    @Test
    void aTimeoutOfZeroLooksOnce() throws Exception {
        long start = System.nanoTime();
        assertThat(detector.awaitDeadlock(Duration.ZERO, Thread.currentThread())).isEmpty();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> detector.withPollInterval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("poll interval");
        assertThatThrownBy(() -> detector.awaitDeadlock(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> detector.locksHeldBy(null)).isInstanceOf(NullPointerException.class);
    }
}
