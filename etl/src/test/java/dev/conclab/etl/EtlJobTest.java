package dev.conclab.etl;

import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.parse.CsvOrderParser;
import dev.conclab.etl.parse.OrderFields;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class EtlJobTest {
    @TempDir Path tmp;

    private OrderGenerator.Result generate(Path dir, RecordFormat format, boolean gzip, long bytes, int files) throws Exception {
        return new OrderGenerator().generate(new OrderGenerator.Spec(dir, bytes, files, format, gzip, 0.01, 7));
    }

    @Test
    void generatorIsDeterministicAndHitsTheBadRate() throws Exception {
        OrderGenerator.Result a = generate(tmp.resolve("a"), RecordFormat.CSV, false, 400_000, 2);
        OrderGenerator.Result b = generate(tmp.resolve("b"), RecordFormat.CSV, false, 400_000, 2);
        for (int i = 0; i < 2; i++) {
            assertThat(Files.readAllBytes(a.files().get(i))).isEqualTo(Files.readAllBytes(b.files().get(i)));
        }
        assertThat(a.records()).isGreaterThan(4_000);
        assertThat(a.badRecords()).isBetween(a.records() / 200, a.records() / 50); // 1% ± a factor of 2
    }

    /** Tiny ranges cut most lines in the middle: the totals must not depend on the cut. */
    @Test
    void smallRangesGiveTheSameResultAsOneRangeAndEveryBadRecordIsRejected() throws Exception {
        for (RecordFormat format : RecordFormat.values()) {
            Path dir = tmp.resolve("in-" + format);
            OrderGenerator.Result gen = generate(dir, format, false, 300_000, 1);
            Path file = gen.files().getFirst();
            RangeScanner scanner = new RangeScanner(format);
            RangeResult whole = scanner.scan(new RangeSplitter(Long.MAX_VALUE / 4).split(List.of(file)).getFirst());
            long header = format == RecordFormat.CSV ? 1 : 0;
            assertThat(whole.lines()).isEqualTo(gen.records() + header);
            assertThat(whole.rejects()).hasSize((int) gen.badRecords());
            assertThat(whole.records() + whole.filtered() + whole.rejects().size()).isEqualTo(gen.records());
            for (long rangeBytes : new long[] {13, 37, 1000, 65_537}) {
                List<ByteRange> ranges = new RangeSplitter(rangeBytes).split(List.of(file));
                Aggregates merged = new Aggregates();
                long lines = 0, records = 0;
                List<Long> rejectLines = new ArrayList<>();
                for (ByteRange r : ranges) {
                    RangeResult res = scanner.scan(r);
                    for (RangeResult.Reject rej : res.rejects()) rejectLines.add(lines + rej.localLine());
                    lines += res.lines();
                    records += res.records();
                    merged.addAll(res.aggregates());
                }
                assertThat(lines).as("lines with ranges of %d bytes", rangeBytes).isEqualTo(whole.lines());
                assertThat(records).isEqualTo(whole.records());
                assertThat(rejectLines).isEqualTo(whole.rejects().stream().map(RangeResult.Reject::localLine).toList());
                assertThat(merged.sortedKeys()).isEqualTo(whole.aggregates().sortedKeys());
                for (long k : merged.sortedKeys()) {
                    assertThat(merged.sum(k)).isEqualTo(whole.aggregates().sum(k));
                    assertThat(merged.count(k)).isEqualTo(whole.aggregates().count(k));
                }
            }
        }
    }

    @Test
    void rejectLinesAreTheFilesLineNumbers() throws Exception {
        Path dir = tmp.resolve("in");
        generate(dir, RecordFormat.CSV, false, 200_000, 1);
        Path out = tmp.resolve("out.csv");
        new EtlJob(new EtlJob.Config(dir, RecordFormat.CSV, out.toString(), 2, null, null, 10_000), p -> {}).run();
        List<String> lines = Files.readAllLines(Files.list(dir).findFirst().orElseThrow());
        List<String> rejects = Files.readAllLines(Path.of(out + ".rejects.csv"));
        assertThat(rejects.size()).isGreaterThan(5);
        CsvOrderParser parser = new CsvOrderParser();
        for (String reject : rejects.subList(1, rejects.size())) {
            String[] parts = reject.split(",");
            byte[] line = lines.get(Integer.parseInt(parts[1]) - 1).getBytes();
            assertThat(parser.parse(line, 0, line.length, new OrderFields())).isEqualTo(parts[2]);
        }
    }

    @Test
    void threadsGzipAndSinksAgree() throws Exception {
        generate(tmp.resolve("plain"), RecordFormat.CSV, false, 500_000, 3);
        generate(tmp.resolve("gz"), RecordFormat.CSV, true, 500_000, 3);
        generate(tmp.resolve("json"), RecordFormat.JSONL, false, 500_000, 3);
        String one = run(tmp.resolve("plain"), RecordFormat.CSV, 1, "a.csv");
        assertThat(run(tmp.resolve("plain"), RecordFormat.CSV, 4, "b.csv")).isEqualTo(one);
        assertThat(run(tmp.resolve("gz"), RecordFormat.CSV, 2, "c.csv")).isEqualTo(one);
        String json = run(tmp.resolve("json"), RecordFormat.JSONL, 3, "d.jsonl");
        assertThat(json).contains("\"country\":").contains("\"amount_eur\":");
        assertThat(json.lines().count()).isBetween(1000L, 20L * 90); // fewer (longer) records than the CSV set: fewer groups
        new EtlJob(new EtlJob.Config(tmp.resolve("plain"), RecordFormat.CSV, "sqlite:" + tmp.resolve("o.db"), 2,
                null, null, 50_000), p -> {}).run();
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("o.db"));
             var rs = c.createStatement().executeQuery("SELECT count(*) FROM orders_by_country_day")) {
            rs.next();
            assertThat((long) rs.getInt(1)).isEqualTo(one.lines().count() - 1);
        }
    }

    private String run(Path dir, RecordFormat format, int threads, String name) throws Exception {
        Path out = tmp.resolve(name);
        new EtlJob(new EtlJob.Config(dir, format, out.toString(), threads, null, null, 50_000), p -> {}).run();
        return Files.readString(out);
    }

    @Test
    void badInputIsNamed() throws Exception {
        assertThatIllegalArgumentException().isThrownBy(() -> EtlJob.inputFiles(tmp.resolve("nope"), RecordFormat.CSV))
                .withMessageContaining("input directory not found");
        Files.createDirectories(tmp.resolve("empty"));
        assertThatIllegalArgumentException().isThrownBy(() -> EtlJob.inputFiles(tmp.resolve("empty"), RecordFormat.CSV))
                .withMessageContaining("no *.csv");
    }

    @Test
    void aCheckpointOfAnotherInputIsRefused() throws Exception {
        generate(tmp.resolve("x"), RecordFormat.CSV, false, 50_000, 1);
        generate(tmp.resolve("y"), RecordFormat.CSV, false, 60_000, 1);
        Path cp = tmp.resolve("cp.db");
        new EtlJob(new EtlJob.Config(tmp.resolve("x"), RecordFormat.CSV, tmp.resolve("o.csv").toString(), 1, cp, null, 10_000), p -> {}).run();
        assertThatIllegalStateException().isThrownBy(() ->
                new EtlJob(new EtlJob.Config(tmp.resolve("y"), RecordFormat.CSV, tmp.resolve("o.csv").toString(), 1, cp, null, 10_000), p -> {}).run())
                .withMessageContaining("checkpoint belongs to another run");
    }
}
