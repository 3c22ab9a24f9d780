package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.contract.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A burst bigger than the outbox's soft limit, fanned out within one event-loop iteration, reaches a client that
 * reads, whole. One I/O thread serves both clients; the sender writes 4 × the limit {@code send} frames in one socket
 * write (about 24 KiB, one loopback segment), so the loop decodes them all in one read, offering every copy to the
 * reader's outbox before the reader's drain task can run. A policy that closed at the soft limit cut the reader off
 * here (1008) although it was reading.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OutboxBurstTest {

    private static final int SOFT = 128;
    private static final int BURST = 4 * SOFT;

    @Test
    void aReadingClientSurvivesABurstOfFourTimesTheSoftLimit() throws Exception {
        NettyChatServer server = NettyChatServer.start(ChatConfig.defaults().withPort(0).withIoThreads(1)
                .withOutboundLimit(SOFT).withRate(100_000, 100_000));
        try (RawClient reader = new RawClient(server.port(), "/chat?name=reader", 1 << 20);
             RawClient sender = new RawClient(server.port(), "/chat?name=sender", 1 << 20)) {
            assertThat(reader.readFrame().text()).contains("welcome");
            assertThat(sender.readFrame().text()).contains("welcome");
            reader.sendText("{\"type\":\"join\",\"room\":\"r\"}");
            assertThat(reader.readFrame().text()).contains("\"joined\"");
            sender.sendText("{\"type\":\"join\",\"room\":\"r\"}");
            assertThat(sender.readFrame().text()).contains("\"joined\"");
            assertThat(reader.readFrame().text()).contains("\"sender\"");

            List<String> burst = new ArrayList<>();
            for (int i = 0; i < BURST; i++) {
                burst.add("{\"type\":\"send\",\"room\":\"r\",\"text\":\"m" + i + "\"}");
            }
            sender.sendTexts(burst);
            for (int i = 0; i < BURST; i++) {
                RawClient.Frame f = reader.readFrame();
                assertThat(f.opcode()).as("frame %d of the burst (a Close frame means cut off)", i)
                        .isEqualTo(RawClient.TEXT);
                assertThat(f.text()).contains("\"text\":\"m" + i + "\"");
            }
            for (int i = 0; i < 2 * BURST; i++) { // the sender's own copies and acks
                assertThat(sender.readFrame().opcode()).isEqualTo(RawClient.TEXT);
            }
            assertThat(server.stats().slowConsumers()).isZero();
            assertThat(server.stats().connections()).isEqualTo(2);
        } finally {
            server.close(Duration.ofSeconds(2));
        }
    }
}
