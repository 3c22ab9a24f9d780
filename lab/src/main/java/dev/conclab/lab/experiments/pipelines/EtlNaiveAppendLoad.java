package dev.conclab.lab.experiments.pipelines;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * <b>Broken on purpose:</b> the loader a first ETL often has. It scans the ranges in order and appends each range's
 * aggregate rows ({@code country,day,orders,amount_cents}) to the output as soon as the range is done, remembering
 * nothing about what it already loaded. A restart after a crash therefore re-reads from the first range and appends
 * again: every range loaded before the crash is loaded twice. Not thread safe; blocks on file I/O.
 */
final class EtlNaiveAppendLoad {
    private EtlNaiveAppendLoad() {}

    /**
     * Appends the rows of every range of the CSV files of {@code input}, calling {@code loaded} with the number of
     * ranges loaded so far after each range's rows are flushed to the file.
     */
    static void run(Path input, Path output, long rangeBytes, IntConsumer loaded) throws IOException {
        List<ByteRange> ranges = new RangeSplitter(rangeBytes).split(EtlJob.inputFiles(input, RecordFormat.CSV));
        RangeScanner scanner = new RangeScanner(RecordFormat.CSV);
        try (BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.US_ASCII,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            int n = 0;
            for (ByteRange range : ranges) {
                RangeResult r = scanner.scan(range);
                Aggregates a = r.aggregates();
                for (long key : a.sortedKeys()) {
                    out.write(Aggregates.country(key) + "," + Aggregates.epochDay(key) + "," + a.count(key) + ","
                            + a.sum(key) + "\n");
                }
                out.flush();
                loaded.accept(++n);
            }
        }
    }

    /** The orders column summed over the rows of a file written by {@link #run}. */
    static long loadedOrders(Path output) throws IOException {
        try (var lines = Files.lines(output, StandardCharsets.US_ASCII)) {
            return lines.mapToLong(line -> Long.parseLong(line.split(",")[2])).sum();
        }
    }
}
