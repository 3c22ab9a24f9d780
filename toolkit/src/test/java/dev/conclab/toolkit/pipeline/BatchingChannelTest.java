package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.ChannelClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BatchingChannelTest {

    @Test
    void refusesBadInput() {
        assertThatThrownBy(() -> new BatchingChannel<String>(1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batchSize must be at least 1, got 0");
        assertThatThrownBy(() -> new BatchingChannel<String>(0, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity must be at least 1, got 0");
        assertThatThrownBy(() -> new BatchingChannel<String>(1, 4).newSender().send(null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void itemsArriveInOrderAcrossThreadsAndTheStreamEnds() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(32, 16);
        var r = ch.newReceiver();
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            try (var s = ch.newSender()) {
                for (int i = 0; i < 100_000; i++) {
                    s.send(i);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            ch.close();
        });
        List<Integer> got = new ArrayList<>();
        Integer x;
        while ((x = r.receive()) != null) {
            got.add(x);
        }
        producer.get();
        assertThat(got).hasSize(100_000).isSorted().first().isEqualTo(0);
    }

    @Test
    void aPartialBatchStaysWithItsSenderUntilAReceiverAsksAndDepthCountsItems() throws Exception {
        BatchingChannel<String> ch = new BatchingChannel<>(8, 4);
        var s = ch.newSender();
        s.send("a");
        s.send("b");
        assertThat(s.pending()).isEqualTo(2);
        assertThat(ch.size()).as("nothing handed over yet").isZero();
        assertThat(ch.waiting()).as("items, not batches").isEqualTo(2);
        var r = ch.newReceiver();
        assertThat(r.receive()).as("the receiver takes the partial batch itself").isEqualTo("a");
        assertThat(s.pending()).isZero();
        assertThat(r.buffered()).isEqualTo(1);
        assertThat(ch.waiting()).isEqualTo(1);
        for (String item : List.of("c", "d", "e", "f", "g")) {
            s.send(item); // c and d fill the batch (a and b were taken from its first slots): handed over
        }
        assertThat(ch.size()).isEqualTo(2);
        assertThat(s.pending()).isEqualTo(3);
        assertThat(ch.waiting()).isEqualTo(1 + 2 + 3);
        s.flush();
        assertThat(ch.size()).isEqualTo(5);
        assertThat(List.of(r.receive(), r.receive(), r.receive(), r.receive(), r.receive(), r.receive()))
                .containsExactly("b", "c", "d", "e", "f", "g");
        assertThat(ch.waiting()).isZero();
    }

    /** The receiver is known to be parked before the send: the one item must reach it with no flush and no more. */
    @Test
    void anItemSentWhileAReceiverWaitsReachesItWithoutAFlush() throws Exception {
        BatchingChannel<String> ch = new BatchingChannel<>(1024, 256);
        var s = ch.newSender();
        var r = ch.newReceiver();
        try (var exec = Executors.newSingleThreadExecutor()) {
            var got = exec.submit(() -> r.receive());
            while (!ch.hasWaitingReceivers()) {
                Thread.onSpinWait(); // the receiver parks for certain: nothing has been sent
            }
            s.send("only");
            assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo("only");
            assertThat(s.pending()).isZero();
        }
    }

    /**
     * The race the channel's fence closes, run many times: one item sent, then the sender blocks on something
     * else until the receiver has it. If the item could be stranded in the partial batch, this would hang.
     */
    @Test
    void aSenderBlockedElsewhereNeverStrandsItsLastItem() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(1024, 256);
        var s = ch.newSender();
        var r = ch.newReceiver();
        int rounds = 20_000;
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch[] seen = new CountDownLatch[rounds];
        for (int i = 0; i < rounds; i++) {
            seen[i] = new CountDownLatch(1);
        }
        Thread consumer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    assertThat(r.receive()).isEqualTo(i);
                    seen[i].countDown();
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        for (int i = 0; i < rounds; i++) {
            s.send(i);
            assertThat(seen[i].await(10, TimeUnit.SECONDS)).as("item %d reached the receiver", i).isTrue();
        }
        consumer.join();
        assertThat(failed.get()).isNull();
    }

    @Test
    void aFullChannelHoldsTheSenderBackAndCloseEndsTheStream() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(2, 2);
        var s = ch.newSender();
        // two items wait in the channel, two in the sender's full batch: the fifth has no room
        for (int i = 0; i < 4; i++) {
            assertThat(s.send(i, 0, TimeUnit.MILLISECONDS)).isTrue();
        }
        assertThat(s.send(4, 0, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(ch.size()).isEqualTo(2);
        assertThat(ch.waiting()).isEqualTo(4);
        var r = ch.newReceiver();
        assertThat(r.receive()).isZero();
        assertThat(s.send(4, 0, TimeUnit.MILLISECONDS)).isTrue();
        ch.close();
        assertThatThrownBy(s::flush).isInstanceOf(ChannelClosedException.class);
        // everything sent before the close is still received, the partial batch included
        assertThat(List.of(r.receive(), r.receive(), r.receive(), r.receive())).containsExactly(1, 2, 3, 4);
        assertThat(r.receive()).isNull();
    }

    @Test
    void aWaitingReceiverIsInterruptible() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(4, 2);
        var r = ch.newReceiver();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                r.receive();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        while (!ch.hasWaitingReceivers()) {
            Thread.onSpinWait();
        }
        t.interrupt();
        t.join();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(ch.hasWaitingReceivers()).isFalse();
    }
}
