package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.ChannelClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BatchingChannelTest {

    @Test
    void refusesBadInput() {
        assertThatThrownBy(() -> new BatchingChannel<String>(1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batchSize must be at least 1, got 0");
        assertThatThrownBy(() -> new BatchingChannel<String>(0, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
        assertThatThrownBy(() -> new BatchingChannel<String>(1, 4).newSender().send(null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void itemsArriveInOrderAcrossThreadsAndTheStreamEnds() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(2, 16);
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            try (var s = ch.newSender()) {
                for (int i = 0; i < 10_000; i++) {
                    s.send(i);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            ch.close();
        });
        var r = ch.newReceiver();
        List<Integer> got = new ArrayList<>();
        Integer x;
        while ((x = r.receive()) != null) {
            got.add(x);
        }
        producer.get();
        assertThat(got).hasSize(10_000).isSorted().first().isEqualTo(0);
    }

    @Test
    void itemsWaitInTheSenderUntilTheBatchFillsOrIsFlushed() throws Exception {
        BatchingChannel<String> ch = new BatchingChannel<>(1, 3);
        var s = ch.newSender();
        var r = ch.newReceiver();
        s.send("a");
        s.send("b");
        assertThat(s.pending()).isEqualTo(2);
        assertThatThrownBy(() -> r.receive(0, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        s.flush();
        assertThat(r.receive()).isEqualTo("a");
        assertThat(r.buffered()).isEqualTo(1);
        assertThat(r.receive()).isEqualTo("b");
    }

    @Test
    void aFullChannelHoldsTheSenderBack() throws Exception {
        BatchingChannel<Integer> ch = new BatchingChannel<>(1, 2);
        var s = ch.newSender();
        // one full batch waits in the channel, one full batch in the sender: the fifth item has no room
        for (int i = 0; i < 4; i++) {
            assertThat(s.send(i, 0, TimeUnit.MILLISECONDS)).isTrue();
        }
        assertThat(s.send(4, 0, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(ch.batchesWaiting()).isEqualTo(1);
        var r = ch.newReceiver();
        assertThat(r.receive()).isZero();
        assertThat(s.send(4, 0, TimeUnit.MILLISECONDS)).isTrue();
        ch.close();
        assertThatThrownBy(s::flush).isInstanceOf(ChannelClosedException.class);
        assertThat(r.receive()).isEqualTo(1);
        assertThat(r.receive()).isEqualTo(2);
        assertThat(r.receive()).isEqualTo(3);
        assertThat(r.receive()).isNull();
    }
}
