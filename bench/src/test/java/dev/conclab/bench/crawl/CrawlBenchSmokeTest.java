package dev.conclab.bench.crawl;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The crawl suite runs end to end with tiny settings: every figure is measured (positive, with a load average), the
 * table prints them under the machine line, and no thread of the site or the crawler is left. It checks that the
 * suite works, not how fast anything is.
 */
class CrawlBenchSmokeTest {

    @Test
    void everyFigureIsMeasuredAndPrinted() throws Exception {
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        var progress = new ByteArrayOutputStream();
        List<CrawlBench.Figure> figures = CrawlBench.run(CrawlBench.Settings.tiny(),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        assertThat(figures).hasSize(1 + 3 * 2 + 3 * 2);
        assertThat(figures).allSatisfy(f -> assertThat(f.value()).as(f.what()).isPositive());
        assertThat(figures.getFirst().unit()).isEqualTo("req/s");

        var table = new ByteArrayOutputStream();
        CrawlBench.print(figures, BenchMain.machine(), new PrintStream(table, true, StandardCharsets.UTF_8));
        String out = table.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("machine: ").contains("wall / ideal").contains("crawler CPU per page")
                .contains("fetch-only").contains("crawling").contains("pages/s");

        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && (t.getName().startsWith("crawl")
                        || t.getName().startsWith("test-site") || t.getName().startsWith("HttpClient")))
                .map(Thread::getName).toList();
        assertThat(left).isEmpty();
    }
}
