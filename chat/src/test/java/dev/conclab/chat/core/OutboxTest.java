package dev.conclab.chat.core;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutboxTest {

    @Test
    void oneWakePerIdleToBusyTransitionAndNeverMoreThanTheCapacity() {
        Outbox box = new Outbox(3);
        assertThat(box.offer("a")).isEqualTo(Outbox.Offer.WAKE);
        assertThat(box.offer("b")).isEqualTo(Outbox.Offer.QUEUED);
        assertThat(box.offer("c")).isEqualTo(Outbox.Offer.QUEUED);
        assertThat(box.offer("d")).isEqualTo(Outbox.Offer.FULL);
        assertThat(box.size()).isEqualTo(3);
        assertThat(box.poll()).isEqualTo("a");
        assertThat(box.offer("e")).as("room again, consumer still scheduled").isEqualTo(Outbox.Offer.QUEUED);
        assertThat(box.poll()).isEqualTo("b");
        assertThat(box.poll()).isEqualTo("c");
        assertThat(box.poll()).isEqualTo("e");
        assertThat(box.poll()).isNull();
        assertThat(box.drained()).as("nothing arrived: the consumer may stop").isFalse();
        assertThat(box.offer("f")).as("idle again: wake").isEqualTo(Outbox.Offer.WAKE);
    }

    @Test
    void aFrameOfferedWhileTheConsumerStopsIsNotLost() {
        Outbox box = new Outbox(4);
        box.offer("a");
        assertThat(box.poll()).isEqualTo("a");
        // the consumer saw the queue empty; a producer slips a frame in before drained()
        assertThat(box.offer("b")).isEqualTo(Outbox.Offer.QUEUED);
        assertThat(box.drained()).as("the consumer must go on").isTrue();
        assertThat(box.poll()).isEqualTo("b");
        assertThat(box.drained()).isFalse();
    }

    @Test
    void concurrentProducersNeverExceedTheCapacity() throws Exception {
        int capacity = 100;
        Outbox box = new Outbox(capacity);
        int producers = 8;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger accepted = new AtomicInteger();
        Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++) {
            threads[p] = Thread.ofVirtual().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 1_000; i++) {
                    if (box.offer("x") != Outbox.Offer.FULL) {
                        accepted.incrementAndGet();
                    }
                }
            });
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(accepted.get()).isEqualTo(capacity);
        assertThat(box.size()).isEqualTo(capacity);
    }

    @Test
    void aCapacityBelowOneIsRefused() {
        assertThatThrownBy(() -> new Outbox(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
    }
}
