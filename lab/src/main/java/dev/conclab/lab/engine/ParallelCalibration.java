package dev.conclab.lab.engine;

import java.util.concurrent.CountDownLatch;

/**
 * Measures whether this machine's cores run two busy threads in parallel right now: the same arithmetic loop on one
 * thread, then on two threads with the same work each, in several turns. Two real cores give close to 2× in every
 * turn. On the 2-vCPU cloud VM this lab was built on, some turns gave 0.9× for spells of a fraction of a second to
 * a few seconds, as if the host ran both vCPUs on one physical CPU (or on SMT siblings of one core) for that long;
 * no process inside the VM can see that in its own CPU accounting, so it has to be measured.
 *
 * <p>The loop keeps four independent multiply chains going, so one thread alone already fills its core's multiplier:
 * a second thread on a sibling of the same core has nothing left to use. A loop with a single dependent chain
 * would hide exactly that, since it leaves the core idle between steps.
 *
 * <p>Stateless; each call starts and joins its own platform threads and takes about 0.2–0.5 s. Thread-safe.
 */
final class ParallelCalibration {

    /** Iterations per thread: about 20 ms per run on a current core. */
    private static final long ITERATIONS = 10_000_000L;
    private static final int TURNS = 5;
    /** Every result lands here, so the JIT cannot drop the loop. */
    private static volatile long sink;

    private ParallelCalibration() {
    }

    /**
     * The lowest two-thread speed-up of any turn: two threads' throughput over one thread's, for the same loop, one
     * run each per turn (ideal: 2). The lowest, not the best, because the question is whether the cores stopped
     * running in parallel at any time around now.
     */
    static double worstTwoThreadSpeedup() throws InterruptedException {
        spin(ITERATIONS / 4); // let the loop reach the JIT before timing
        double worst = Double.MAX_VALUE;
        for (int i = 0; i < TURNS; i++) {
            long start = System.nanoTime();
            sink = spin(ITERATIONS);
            long one = System.nanoTime() - start;
            worst = Math.min(worst, 2.0 * one / twoThreads());
        }
        return worst;
    }

    private static long twoThreads() throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().name("conclab-calibration-" + t).start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                sink = spin(ITERATIONS);
            });
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        return System.nanoTime() - start;
    }

    private static long spin(long iterations) {
        long a = 1, b = 2, c = 3, d = 4;
        for (long i = 0; i < iterations; i++) {
            a = a * 6364136223846793005L + 1442695040888963407L;
            b = b * 6364136223846793005L + 1442695040888963407L;
            c = c * 6364136223846793005L + 1442695040888963407L;
            d = d * 6364136223846793005L + 1442695040888963407L;
        }
        return a ^ b ^ c ^ d;
    }
}
