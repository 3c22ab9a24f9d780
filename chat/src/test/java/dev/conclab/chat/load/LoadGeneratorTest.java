package dev.conclab.chat.load;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.netty.NettyChatServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A quick load against the event-loop model in this JVM: a few hundred connections in rooms, a few seconds of
 * messages at a modest rate. It checks correctness (every expected copy delivered, no error, no close, percentiles
 * measured and ordered), not speed: the latency bound is generous for a shared 2-core machine.
 */
class LoadGeneratorTest {

    @Test
    void everyMessageReachesEveryMemberOfItsRoom() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        LoadReport report;
        long pid = ProcessHandle.current().pid();
        try (ChatServer server = NettyChatServer.start(ChatConfig.defaults().withPort(0).withIoThreads(2))) {
            LoadConfig config = LoadConfig.of(server.uri(), 300, 10, 300, Duration.ofMillis(2500))
                    .withServerPid(pid);
            report = LoadGenerator.run(config);
            assertThat(server.stats().slowConsumers()).isZero();
        }
        System.out.print(report.toText());

        assertThat(report.connectionsHeld()).isEqualTo(300);
        assertThat(report.connectFailures()).isZero();
        assertThat(report.errorsByCode()).isEmpty();
        assertThat(report.closesByCode()).isEmpty();
        assertThat(report.slowConsumerCloses()).isZero();
        LoadReport.Step step = report.steps().getFirst();
        assertThat(step.sent()).as("messages sent at 300/s for 2.5 s").isBetween(600L, 800L);
        assertThat(step.acked()).isEqualTo(step.sent());
        assertThat(step.expected()).as("30 members per room").isEqualTo(step.sent() * 30);
        assertThat(step.delivered()).isEqualTo(step.expected());
        assertThat(step.p50Millis()).isPositive();
        assertThat(step.p50Millis()).isLessThanOrEqualTo(step.p99Millis());
        assertThat(step.p99Millis()).isLessThanOrEqualTo(step.p999Millis());
        assertThat(step.p999Millis()).isLessThanOrEqualTo(step.maxMillis());
        assertThat(step.p99Millis()).as("p99 delivery latency, ms (generous: correctness, not speed)")
                .isLessThan(4_000);                   // under the 5 s grace; loaded runs saw up to 0.8 s
        assertThat(report.memoryHeld().rssBytes()).isPositive();
        assertThat(report.toJson()).contains("\"connectionsHeld\" : 300").contains("\"p99Millis\"")
                .contains("\"rssPerConnection\"");

        awaitNoThreadLeft(before);
    }

    @Test
    void badSettingsAreNamed() {
        var url = java.net.URI.create("ws://127.0.0.1:1/chat");
        assertThatThrownBy(() -> LoadConfig.of(url, 0, 1, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("connections must be in 1..");
        assertThatThrownBy(() -> LoadConfig.of(url, 10, 11, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("rooms must be in 1..10");
        assertThatThrownBy(() -> LoadConfig.of(java.net.URI.create("http://x:1/"), 10, 1, 1, Duration.ofSeconds(1)))
                .hasMessageContaining("url must be ws://");
        assertThatThrownBy(() -> LoadConfig.parseRates("fast")).hasMessageContaining("--rate must look like 500/s");
        assertThat(LoadConfig.parseRates("100/s,2k/s,0")).isEqualTo(List.of(100.0, 2000.0, 0.0));
    }

    @Test
    void heapIsReadFromGcHeapInfo() {
        assertThat(ServerMemory.heapUsed("""
                garbage-first heap   total reserved 6172672K, committed 393216K, used 4136K [0x0, 0x1)
                 region size 4096K, 1 young (4096K), 0 survivors (0K)
                 Metaspace       used 700K, committed 900K, reserved 1114112K
                """)).isEqualTo(4136L * 1024);
        assertThat(ServerMemory.heapUsed("""
                 def new generation   total 4928K, used 1000K [0x0, 0x1, 0x2)
                 tenured generation   total 10944K, used 2000K [0x0, 0x1, 0x2)
                 Metaspace       used 700K, committed 900K, reserved 1114112K
                """)).isEqualTo(3000L * 1024);
        assertThat(ServerMemory.heapUsed(null)).isEqualTo(-1);
    }

    private static void awaitNoThreadLeft(Set<Thread> before) throws InterruptedException {
        List<String> left = List.of();
        for (int i = 0; i < 200; i++) {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive()
                            && (t.getName().startsWith("chat-") || t.getName().startsWith("nioEventLoop")))
                    .map(Thread::getName).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(20);
        }
        assertThat(left).as("threads left running").isEmpty();
    }
}
