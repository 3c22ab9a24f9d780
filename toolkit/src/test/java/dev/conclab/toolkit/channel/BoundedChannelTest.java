package dev.conclab.toolkit.channel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Blocking states are awaited through the channel's own wait-queue checks ({@code hasWaitingSenders},
 * {@code hasWaitingReceivers}), never through sleeps, so each test sees the same interleaving on every run.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BoundedChannelTest {

    @Test
    void refusesBadInputWithAClearMessage() {
        assertThatThrownBy(() -> new BoundedChannel<String>(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity must be at least 1, got 0");
        assertThatThrownBy(() -> new BoundedChannel<String>(-5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-5");
        BoundedChannel<String> ch = new BoundedChannel<>(2);
        assertThatThrownBy(() -> ch.send(null)).isInstanceOf(NullPointerException.class).hasMessage("item");
        assertThatThrownBy(() -> ch.trySend(null)).isInstanceOf(NullPointerException.class).hasMessage("item");
        assertThatThrownBy(() -> ch.send(null, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ch.send("a", 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ch.receive(1, null)).isInstanceOf(NullPointerException.class);
        assertThat(ch.size()).isZero();
    }

    @Test
    void deliversInFifoOrder() throws Exception {
        BoundedChannel<Integer> ch = new BoundedChannel<>(5);
        for (int i = 0; i < 5; i++) {
            ch.send(i);
        }
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            got.add(ch.receive().orElseThrow());
        }
        // and again across the ring's wrap-around
        for (int round = 0; round < 3; round++) {
            ch.send(10 + round);
            ch.send(20 + round);
            got.add(ch.receive().orElseThrow());
            got.add(ch.receive().orElseThrow());
        }
        assertThat(got).containsExactly(0, 1, 2, 3, 4, 10, 20, 11, 21, 12, 22);
    }

    @Test
    void neverHoldsMoreThanItsCapacity() throws Exception {
        BoundedChannel<Integer> ch = new BoundedChannel<>(3);
        assertThat(ch.trySend(1)).isTrue();
        assertThat(ch.trySend(2)).isTrue();
        assertThat(ch.trySend(3)).isTrue();
        assertThat(ch.trySend(4)).as("full").isFalse();
        assertThat(ch.send(4, 0, TimeUnit.SECONDS)).as("zero timeout, full").isFalse();
        assertThat(ch.size()).isEqualTo(3);
        assertThat(ch.remainingCapacity()).isZero();

        // Four producers racing against one consumer: every observation of the size stays within the bound.
        BoundedChannel<Integer> shared = new BoundedChannel<>(4);
        AtomicInteger peak = new AtomicInteger();
        int perProducer = 5_000;
        try (ExecutorService pool = Executors.newFixedThreadPool(5)) {
            List<Future<?>> producers = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                producers.add(pool.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        shared.send(i);
                        peak.accumulateAndGet(shared.size(), Math::max);
                    }
                    return null;
                }));
            }
            Future<Integer> consumer = pool.submit(() -> {
                int n = 0;
                while (shared.receive().isPresent()) {
                    peak.accumulateAndGet(shared.size(), Math::max);
                    n++;
                }
                return n;
            });
            for (Future<?> f : producers) {
                f.get();
            }
            shared.close();
            assertThat(consumer.get()).isEqualTo(4 * perProducer);
        }
        assertThat(peak.get()).isBetween(1, 4);
    }

    @Test
    void sendWaitsWhileFullUntilAnItemIsReceived() throws Exception {
        BoundedChannel<String> ch = new BoundedChannel<>(1);
        ch.send("first");
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> uninterruptibly(() -> ch.send("second")));
        awaitTrue(ch::hasWaitingSenders);
        assertThat(sender).isNotDone();
        assertThat(ch.size()).isEqualTo(1);

        assertThat(ch.receive()).contains("first");
        sender.get(10, TimeUnit.SECONDS);
        assertThat(ch.receive()).contains("second");
    }

    @Test
    void receiveWaitsWhileEmptyUntilAnItemIsSent() throws Exception {
        BoundedChannel<String> ch = new BoundedChannel<>(1);
        CompletableFuture<Optional<String>> receiver = CompletableFuture.supplyAsync(() -> receiveOrFail(ch));
        awaitTrue(ch::hasWaitingReceivers);
        assertThat(receiver).isNotDone();
        ch.send("x");
        assertThat(receiver.get(10, TimeUnit.SECONDS)).contains("x");
    }

    @Test
    void timedCallsGiveUpAfterTheirTimeout() throws Exception {
        BoundedChannel<String> ch = new BoundedChannel<>(1);
        long start = System.nanoTime();
        assertThatThrownBy(() -> ch.receive(30, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("no item within 30 milliseconds");
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(30));

        ch.send("a");
        start = System.nanoTime();
        assertThat(ch.send("b", 30, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(30));
        assertThat(ch.receive(0, TimeUnit.SECONDS)).contains("a");
        assertThat(ch.send("c", 0, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void closeRefusesSendsButLetsReceiversDrainThenSeeTheEnd() throws Exception {
        BoundedChannel<Integer> ch = new BoundedChannel<>(4);
        ch.send(1);
        ch.send(2);
        ch.close();
        ch.close(); // idempotent
        assertThat(ch.isClosed()).isTrue();
        assertThat(ch.isDrained()).isFalse();
        assertThatThrownBy(() -> ch.send(3)).isInstanceOf(ChannelClosedException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> ch.trySend(3)).isInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.send(3, 1, TimeUnit.SECONDS)).isInstanceOf(ChannelClosedException.class);
        assertThat(ch.receive()).contains(1);
        assertThat(ch.receive(1, TimeUnit.SECONDS)).contains(2);
        assertThat(ch.isDrained()).isTrue();
        assertThat(ch.receive()).isEmpty();
        assertThat(ch.receive(0, TimeUnit.SECONDS)).as("end of stream, not a timeout").isEmpty();
    }

    @Test
    void closeWakesWaitingReceiversWithTheEndAndWaitingSendersWithAnError() throws Exception {
        BoundedChannel<String> empty = new BoundedChannel<>(1);
        CompletableFuture<Optional<String>> r1 = CompletableFuture.supplyAsync(() -> receiveOrFail(empty));
        CompletableFuture<Optional<String>> r2 = CompletableFuture.supplyAsync(() -> receiveOrFail(empty));
        awaitTrue(() -> empty.hasWaitingReceivers() && !r1.isDone() && !r2.isDone());

        BoundedChannel<String> full = new BoundedChannel<>(1);
        full.send("kept");
        CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> uninterruptibly(() -> full.send("lost")));
        awaitTrue(full::hasWaitingSenders);

        empty.close();
        full.close();
        assertThat(r1.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThat(r2.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThatThrownBy(() -> sender.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ChannelClosedException.class);
        assertThat(full.receive()).contains("kept");
        assertThat(full.receive()).as("the refused item was not added").isEmpty();
    }

    @Test
    void manyProducersAndConsumersLoseAndDuplicateNothing() throws Exception {
        int producers = 4;
        int consumers = 4;
        int perProducer = 20_000;
        BoundedChannel<Long> ch = new BoundedChannel<>(16);
        AtomicIntegerArray seen = new AtomicIntegerArray(producers * perProducer);
        AtomicInteger outOfOrder = new AtomicInteger();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int producer = p;
                sent.add(pool.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        ch.send((long) producer << 32 | i);
                    }
                    return null;
                }));
            }
            List<Future<?>> received = new ArrayList<>();
            for (int c = 0; c < consumers; c++) {
                received.add(pool.submit(() -> {
                    int[] last = new int[producers];
                    java.util.Arrays.fill(last, -1);
                    Optional<Long> item;
                    while ((item = ch.receive()).isPresent()) {
                        int producer = (int) (item.get() >>> 32);
                        int index = (int) (long) item.get();
                        seen.incrementAndGet(producer * perProducer + index);
                        // FIFO: one consumer sees each producer's items in the order they were sent
                        if (index <= last[producer]) {
                            outOfOrder.incrementAndGet();
                        }
                        last[producer] = index;
                    }
                    return null;
                }));
            }
            for (Future<?> f : sent) {
                f.get();
            }
            ch.close();
            for (Future<?> f : received) {
                f.get();
            }
        }
        for (int i = 0; i < seen.length(); i++) {
            assertThat(seen.get(i)).as("item %d received once", i).isEqualTo(1);
        }
        assertThat(outOfOrder.get()).isZero();
    }

    @Test
    void interruptingAWaitingSenderThrowsAndAddsNothing() throws Exception {
        BoundedChannel<String> ch = new BoundedChannel<>(1);
        ch.send("only");
        CountDownLatch done = new CountDownLatch(1);
        List<Throwable> thrown = new ArrayList<>();
        Thread sender = Thread.ofPlatform().start(() -> {
            try {
                ch.send("never");
            } catch (Throwable t) {
                thrown.add(t);
            } finally {
                done.countDown();
            }
        });
        awaitTrue(ch::hasWaitingSenders);
        sender.interrupt();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(thrown).singleElement().isInstanceOf(InterruptedException.class);
        assertThat(ch.size()).isEqualTo(1);
        assertThat(ch.receive()).contains("only");
        assertThat(ch.hasWaitingSenders()).isFalse();
    }

    @Test
    void interruptingAWaitingReceiverThrows() throws Exception {
        BoundedChannel<String> ch = new BoundedChannel<>(1);
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        Thread receiver = Thread.ofVirtual().start(() -> {
            try {
                ch.receive();
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(t);
            }
        });
        awaitTrue(ch::hasWaitingReceivers);
        receiver.interrupt();
        assertThat(thrown.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        // and a thread interrupted on entry throws even though an item is there
        ch.send("x");
        Thread.currentThread().interrupt();
        assertThatThrownBy(ch::receive).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        assertThat(ch.receive()).contains("x");
    }

    @Test
    void fairChannelBehavesTheSame() throws Exception {
        BoundedChannel<Integer> ch = new BoundedChannel<>(2, true);
        ch.send(1);
        ch.send(2);
        assertThat(ch.trySend(3)).isFalse();
        assertThat(ch.receive()).contains(1);
        assertThat(ch.capacity()).isEqualTo(2);
        assertThat(ch).hasToString("BoundedChannel[1/2]");
    }

    private interface Blocking {
        void run() throws InterruptedException;
    }

    private static void uninterruptibly(Blocking call) {
        try {
            call.run();
        } catch (InterruptedException e) {
            throw new AssertionError("unexpected interrupt", e);
        }
    }

    private static Optional<String> receiveOrFail(BoundedChannel<String> ch) {
        try {
            return ch.receive();
        } catch (InterruptedException e) {
            throw new AssertionError("unexpected interrupt", e);
        }
    }

    /** Spins (yielding) until {@code condition} holds; the class-level timeout bounds it. */
    private static void awaitTrue(BooleanSupplier condition) {
        while (!condition.getAsBoolean()) {
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
