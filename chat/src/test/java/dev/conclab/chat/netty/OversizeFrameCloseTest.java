package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.contract.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A frame over the size limit: the client receives the Close frame with 1009, although it is still sending the
 * frame's payload when the server refuses it. The payload (16 MiB) is larger than every socket buffer on the way,
 * so a server that closed the TCP connection right after its Close frame (Netty's default) would leave unread bytes
 * and reset the connection: the client's write fails and the Close frame is lost, which is what a browser reports as
 * 1006. The event-loop model instead reads and discards the rest, shuts its output down after the Close frame, and
 * closes once the client has closed its side.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OversizeFrameCloseTest {

    private static final int PAYLOAD = 16 << 20;

    @Test
    void aClientStillSendingAnOversizeFrameReceives1009ThenTheEndOfTheStream() throws Exception {
        check(true);
    }

    @Test
    void theSameOnNio() throws Exception {
        check(false);
    }

    private static void check(boolean preferNative) throws Exception {
        NettyChatServer server = NettyChatServer.start(ChatConfig.defaults().withPort(0).withIoThreads(1)
                .withMaxFrameBytes(16 << 10), preferNative);
        try {
            for (int round = 0; round < 3; round++) {
                try (RawClient c = new RawClient(server.port(), "/chat?name=big" + round, 64 << 10)) {
                    assertThat(c.readFrame().text()).contains("welcome");
                    // Netty's default fails here: the reset breaks this write ("Connection reset", "Broken pipe").
                    c.sendFrame(RawClient.TEXT, new byte[PAYLOAD]); // the server refuses it at the header
                    long start = System.nanoTime();
                    assertThat(c.readUntilClose()).as("round " + round).isEqualTo(1009);
                    assertThat(c.closedByServer()).as("the server ends the stream after its Close frame").isTrue();
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (server.stats().connections() > 0 && System.nanoTime() - deadline < 0) {
                Thread.sleep(10);
            }
            assertThat(server.stats().connections()).as("every refused connection is gone").isZero();
        } finally {
            server.close(Duration.ofSeconds(2));
        }
    }
}
