package dev.conclab.toolkit.loop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code callSoonThreadsafe} from many threads at once, while the loop runs and waits in its selector. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoopThreadsafeTest {

    private static final int THREADS = 8;
    private static final int POSTS_PER_THREAD = 20_000;

    @Test
    void everyPostRunsExactlyOnceOnTheLoopThreadInEachThreadsOrder() throws Exception {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            // Touched only by callbacks, hence only by the loop thread: no lock, as the loop promises.
            int[] nextExpected = new int[THREADS];
            int[] outOfOrder = {0};
            int[] ran = {0};
            Set<Thread> runners = new HashSet<>();
            LoopFuture<Void> allRan = loop.createFuture("all ran");
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Thread> posters = new ArrayList<>();
            loop.callSoon("start posters", () -> {
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    posters.add(Thread.ofPlatform().name("poster-" + t).start(() -> {
                        try {
                            start.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        for (int i = 0; i < POSTS_PER_THREAD; i++) {
                            int seq = i;
                            loop.callSoonThreadsafe(() -> {
                                runners.add(Thread.currentThread());
                                if (nextExpected[thread] != seq) {
                                    outOfOrder[0]++;
                                }
                                nextExpected[thread] = seq + 1;
                                if (++ran[0] == THREADS * POSTS_PER_THREAD) {
                                    allRan.setResult(null);
                                }
                            });
                        }
                    }));
                }
            });
            loop.runUntilComplete(allRan);
            for (Thread poster : posters) {
                poster.join();
            }
            // Posts that ran "twice" would push ran past the total before the last post; one more round proves none.
            loop.runUntilComplete(loop.sleep(java.time.Duration.ZERO));
            assertThat(ran[0]).isEqualTo(THREADS * POSTS_PER_THREAD);
            assertThat(outOfOrder[0]).isZero();
            assertThat(runners).containsExactly(Thread.currentThread());
            for (int t = 0; t < THREADS; t++) {
                assertThat(nextExpected[t]).isEqualTo(POSTS_PER_THREAD);
            }
        }
    }

    @Test
    void aPostWakesTheLoopFromAnUnboundedSelect() throws Exception {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<String> woken = loop.createFuture();
            // Nothing is ready and no timer is set, so the loop selects with no timeout until the post wakes it.
            Thread poster = Thread.ofPlatform().name("waker").start(() -> {
                while (!loop.isRunning()) {
                    Thread.onSpinWait();
                }
                loop.callSoonThreadsafe(() -> woken.setResult(Thread.currentThread().getName()));
            });
            assertThat(loop.runUntilComplete(woken)).isEqualTo(Thread.currentThread().getName());
            poster.join();
        }
    }
}
