package dev.conclab.bench.chat;

import dev.conclab.bench.BenchMain;
import dev.conclab.chat.ChatModel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chat suite runs end to end with tiny settings against the event-loop model: the server child JVM starts and
 * ends, every connection is held, every copy is delivered, the server's memory is read, and the table prints under
 * the machine line. It checks that the suite works, not how fast anything is.
 */
class ChatBenchSmokeTest {

    @Test
    void everyFigureIsMeasuredAndPrinted() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        var progress = new ByteArrayOutputStream();
        List<ChatBench.ModelRun> runs = ChatBench.run(ChatBench.Settings.tiny(), List.of(ChatModel.EVENTLOOP),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        assertThat(runs).hasSize(1);
        var report = runs.getFirst().report();
        assertThat(report.connectionsHeld()).isEqualTo(200);
        assertThat(report.memoryHeld().rssBytes()).isPositive();
        assertThat(report.memoryHeld().heapBytes()).isPositive();
        assertThat(report.steps()).hasSize(1 + ChatBench.Settings.tiny().rates().size());
        assertThat(runs.getFirst().measured()).hasSize(ChatBench.Settings.tiny().rates().size());
        assertThat(report.steps().getFirst().rate()).as("the idle hold").isZero();
        assertThat(report.steps().stream().filter(s -> s.rate() > 0))
                .allSatisfy(s -> assertThat(s.delivered()).isEqualTo(s.expected()).isPositive());
        assertThat(report.errorsByCode()).isEmpty();

        var table = new ByteArrayOutputStream();
        ChatBench.print(runs, BenchMain.machine(), new PrintStream(table, true, StandardCharsets.UTF_8));
        String out = table.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("machine: ").contains("B/connection").contains("p99 ms")
                .contains("highest rate with p99");

        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("chat-"))
                .map(Thread::getName).toList();
        assertThat(left).isEmpty();
    }
}
