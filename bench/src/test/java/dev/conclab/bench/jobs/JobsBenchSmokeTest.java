package dev.conclab.bench.jobs;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jobs suite runs end to end with tiny settings: every figure is measured (positive), the table prints them
 * under the machine line, and no worker or bench thread is left. It checks that the suite works, not how fast
 * anything is.
 */
class JobsBenchSmokeTest {

    @Test
    void everyFigureIsMeasuredAndPrinted() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        var progress = new ByteArrayOutputStream();
        List<JobsBench.Figure> figures = JobsBench.run(JobsBench.Settings.tiny(),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        int brokers = RedisProcess.executable().isPresent() ? 3 : 1;
        assertThat(figures).hasSize(brokers * 7 + 1);
        assertThat(figures).allSatisfy(f -> assertThat(f.value()).as(f.what()).isPositive());
        assertThat(figures.getLast().what()).contains("critical path");

        var table = new ByteArrayOutputStream();
        JobsBench.print(figures, BenchMain.machine(), new PrintStream(table, true, StandardCharsets.UTF_8));
        String out = table.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("machine: ").contains("tasks/s").contains("submit→start").contains("broker alone");

        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && (t.getName().startsWith("jobs-")
                        || t.getName().startsWith("bench-jobs")))
                .map(Thread::getName).toList();
        assertThat(left).isEmpty();
    }
}
