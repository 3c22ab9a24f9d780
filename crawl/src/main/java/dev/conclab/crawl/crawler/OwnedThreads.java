package dev.conclab.crawl.crawler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A thread factory that remembers its threads, so that their owner can join them: an executor's
 * {@code awaitTermination} returns once the executor is terminated, which its last worker signals just before it
 * exits, so its thread may still be alive for a moment — a leaked thread to a test that lists threads right after.
 * Thread-safe.
 */
final class OwnedThreads implements ThreadFactory {

    private final String prefix;
    private final AtomicInteger next = new AtomicInteger();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    OwnedThreads(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = Thread.ofPlatform().name(prefix + next.getAndIncrement()).daemon(true).unstarted(r);
        threads.add(t);
        return t;
    }

    /**
     * Waits up to {@code timeout} for every thread made so far to end; keeps waiting if interrupted and then restores
     * the interrupt status.
     *
     * @return whether they all ended
     */
    boolean joinAll(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        boolean all = true;
        for (Thread t : threads) {
            while (true) {
                try {
                    long left = deadline - System.nanoTime();
                    all &= left > 0 && t.join(Duration.ofNanos(left));
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return all;
    }
}
