package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.contract.RawClient;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The drain deadline holds when the I/O threads are behind: a drain that runs only after the deadline (a task queued
 * behind others on a busy event loop) closes its channel instead of writing. The busy loop is forced: the reader's
 * I/O thread is held on a latch from before the shutdown until after its deadline, so the shutdown's 1001 for the
 * reader is still queued when the deadline passes. Before the fix, that late drain sent the Close 1001 frame after
 * the deadline (under load this made a 5 s deadline last 15 s for 10,000 clients); now the reader is cut off.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShutdownDeadlineTest {

    @Test
    void aDrainThatRunsOnlyAfterTheDeadlineClosesInsteadOfWriting() throws Exception {
        NettyChatServer server = NettyChatServer.start(ChatConfig.defaults().withPort(0).withIoThreads(2), false);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (RawClient reader = new RawClient(server.port(), "/chat?name=reader", 1 << 16);
             RawClient sender = new RawClient(server.port(), "/chat?name=sender", 1 << 16)) {
            assertThat(reader.readFrame().text()).contains("welcome");
            assertThat(sender.readFrame().text()).contains("welcome");
            reader.sendText("{\"type\":\"join\",\"room\":\"r\"}");
            assertThat(reader.readFrame().text()).contains("\"joined\"");
            sender.sendText("{\"type\":\"join\",\"room\":\"r\"}");
            assertThat(sender.readFrame().text()).contains("\"joined\"");
            assertThat(reader.readFrame().text()).contains("\"sender\"");
            // Netty hands channels to its loops in turn: the listener took one loop, the reader the other, the
            // sender the listener's again. Hold the reader's loop only: the sender and the shutdown go on.
            EventLoop serverLoop = server.serverChannel().eventLoop();
            List<Channel> children = List.copyOf(server.openChannels());
            assertThat(children).hasSize(2);
            EventLoop readerLoop = children.stream().map(Channel::eventLoop).filter(l -> l != serverLoop)
                    .findFirst().orElseThrow(() -> new AssertionError("both connections share the listener's loop"));
            assertThat(children.stream().filter(c -> c.eventLoop() == readerLoop)).as("one connection per loop")
                    .hasSize(1);
            readerLoop.execute(() -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            // five messages queued for the reader, whose drain cannot run (the acks come once they are queued)
            for (int i = 0; i < 5; i++) {
                sender.sendText("{\"type\":\"send\",\"room\":\"r\",\"text\":\"m" + i + "\"}");
            }
            int acks = 0;
            while (acks < 5) {
                if (sender.readFrame().text().contains("\"ack\"")) {
                    acks++;
                }
            }

            CompletableFuture<Boolean> closed = CompletableFuture.supplyAsync(
                    () -> server.close(Duration.ofMillis(200)), Thread::startVirtualThread);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!server.cutOffSignalled() && System.nanoTime() < deadline) {
                Thread.sleep(5); // the server's deadline passes while the reader's loop is held
            }
            assertThat(server.cutOffSignalled()).as("the server reached its deadline").isTrue();
            release.countDown();

            assertThat(closed.get(10, TimeUnit.SECONDS)).as("close reports a connection cut off").isFalse();
            List<String> after = framesUntilEnd(reader);
            assertThat(after).as("what the reader got after the deadline: not the queued messages, not the 1001")
                    .noneMatch(f -> f.startsWith("text") || f.equals("close 1001"));
        } finally {
            release.countDown();
            server.close(Duration.ZERO);
        }
    }

    /** Every frame until the end of the stream: "text ...", "close CODE" or another opcode. */
    private static List<String> framesUntilEnd(RawClient client) throws IOException {
        List<String> frames = new ArrayList<>();
        while (true) {
            RawClient.Frame f;
            try {
                f = client.readFrame();
            } catch (EOFException | SocketException e) {
                return frames;
            }
            frames.add(switch (f.opcode()) {
                case RawClient.TEXT -> "text " + f.text();
                case RawClient.CLOSE -> "close " + f.closeCode();
                default -> "opcode " + f.opcode();
            });
        }
    }
}
