package dev.conclab.etl.parallel;

import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;

import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Scans byte ranges in the worker JVMs of a {@link ProcessPool} and merges their partial aggregates in the calling
 * JVM: the JVM's counterpart of {@code ProcessPoolExecutor.map} over byte ranges. Only the range's coordinates go
 * out (a path and two offsets; each worker reads the file itself, through the page cache) and only the range's
 * counters and aggregates come back, packed as longs in a {@code byte[]}: no record crosses a process boundary.
 *
 * <p>Stateless and thread safe; {@link #scan} blocks until every range is merged. Results are merged in range
 * order, so the totals equal those of a sequential scan of the same ranges.
 */
public final class ProcessRangeScan {
    private ProcessRangeScan() {}

    private static final TaskRef TASK = TaskRef.of(ProcessRangeScan.class, "scanRange");

    /**
     * Scans {@code ranges} of {@code format} files on {@code pool}, one range per task.
     *
     * @throws ExecutionException if a range failed in its worker (the cause names the worker's exception)
     * @throws TimeoutException   if the scan did not finish within {@code timeout}
     */
    public static ScanTotals scan(ProcessPool pool, List<ByteRange> ranges, RecordFormat format, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(format, "format");
        List<List<?>> calls = new ArrayList<>(ranges.size());
        for (ByteRange r : ranges) {
            calls.add(List.of(r.file().toString(), (long) r.fileIndex(), (long) r.rangeIndex(), r.start(), r.end(),
                    r.gzip(), format.name()));
        }
        ScanTotals totals = new ScanTotals();
        for (Object part : pool.starmap(TASK, calls, 1, timeout)) { // in range order
            decode((byte[]) part, totals);
        }
        return totals;
    }

    // One scanner per worker thread: a worker runs one chunk at a time, and the scanner's buffer is reused.
    private static final ThreadLocal<RangeScanner[]> SCANNERS =
            ThreadLocal.withInitial(() -> new RangeScanner[RecordFormat.values().length]);

    /** Runs in a worker JVM: scans one range and returns its counters and aggregates (see {@link #decode}). */
    static byte[] scanRange(String file, long fileIndex, long rangeIndex, long start, long end, boolean gzip,
                            String format) throws IOException {
        RecordFormat f = RecordFormat.valueOf(format);
        RangeScanner[] scanners = SCANNERS.get();
        if (scanners[f.ordinal()] == null) scanners[f.ordinal()] = new RangeScanner(f);
        RangeResult r = scanners[f.ordinal()].scan(
                new ByteRange(Path.of(file), (int) fileIndex, (int) rangeIndex, start, end, gzip));
        Aggregates a = r.aggregates();
        ByteBuffer out = ByteBuffer.allocate(Long.BYTES * (6 + 3 * a.size()));
        out.putLong(r.lines()).putLong(r.records()).putLong(r.filtered()).putLong(r.rejects().size())
                .putLong(r.bytesRead()).putLong(a.size());
        a.forEach((key, count, sum) -> out.putLong(key).putLong(count).putLong(sum));
        return out.array();
    }

    /** Adds a worker's answer: lines, records, filtered, rejects, bytes, n, then n (key, count, sum) triples. */
    private static void decode(byte[] bytes, ScanTotals totals) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long lines = in.getLong(), records = in.getLong(), filtered = in.getLong(), rejects = in.getLong();
        long read = in.getLong(), n = in.getLong();
        Aggregates partial = new Aggregates();
        for (long i = 0; i < n; i++) partial.add(in.getLong(), in.getLong(), in.getLong());
        totals.add(partial, lines, records, filtered, rejects, read);
    }
}
