package dev.conclab.etl.parallel;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;

import dev.conclab.toolkit.process.pool.ProcessPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Ranges scanned in worker JVMs come back equal, field for field and in range order, to a scan in this JVM. */
class ProcessRangeScanTest {
    @TempDir Path tmp;

    @Test
    void workerResultsEqualLocalScansInRangeOrder() throws Exception {
        Path input = tmp.resolve("in");
        new OrderGenerator().generate(new OrderGenerator.Spec(input, 600_000, 2, RecordFormat.CSV, false, 0.01, 3));
        List<ByteRange> ranges = new RangeSplitter(70_000).split(EtlJob.inputFiles(input, RecordFormat.CSV));
        RangeScanner local = new RangeScanner(RecordFormat.CSV);
        List<RangeResult> remote = new ArrayList<>();
        try (ProcessPool pool = ProcessPool.of(2)) {
            Iterator<RangeResult> results = ProcessRangeScan.scan(pool, ranges, RecordFormat.CSV);
            while (results.hasNext()) remote.add(results.next());
        }
        assertThat(remote).hasSameSizeAs(ranges);
        long rejects = 0;
        for (int i = 0; i < ranges.size(); i++) {
            RangeResult expected = local.scan(ranges.get(i)), actual = remote.get(i);
            assertThat(actual.range()).isEqualTo(ranges.get(i));
            assertThat(List.of(actual.lines(), actual.records(), actual.filtered(), actual.bytesRead()))
                    .isEqualTo(List.of(expected.lines(), expected.records(), expected.filtered(),
                            expected.bytesRead()));
            assertThat(actual.rejects()).isEqualTo(expected.rejects());
            assertThat(actual.aggregates().sortedKeys()).isEqualTo(expected.aggregates().sortedKeys());
            for (long key : expected.aggregates().sortedKeys()) {
                assertThat(actual.aggregates().count(key)).isEqualTo(expected.aggregates().count(key));
                assertThat(actual.aggregates().sum(key)).isEqualTo(expected.aggregates().sum(key));
            }
            rejects += actual.rejects().size();
        }
        assertThat(rejects).as("the input has malformed records to carry back").isPositive();
    }

    @Test
    void badArgumentsAreNamed() {
        try (ProcessPool pool = ProcessPool.of(1)) {
            org.assertj.core.api.Assertions.assertThatNullPointerException()
                    .isThrownBy(() -> ProcessRangeScan.scan(pool, List.of(), null)).withMessage("format");
        }
    }
}
