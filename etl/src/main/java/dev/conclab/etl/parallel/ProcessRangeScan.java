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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Scans byte ranges in the worker JVMs of a {@link ProcessPool}: the JVM's counterpart of
 * {@code ProcessPoolExecutor.map} over byte ranges. Only a range's coordinates go out (a path and two offsets; each
 * worker reads the file itself, through the page cache) and only its counters, partial aggregates and rejects come
 * back, packed as longs in a {@code byte[]} plus the reject reasons: no record crosses a process boundary. The
 * results equal, field for field, those of a {@link RangeScanner} in this JVM.
 *
 * <p>Stateless and thread safe. {@link #scan} submits every range at once and returns without blocking; its
 * iterator yields the results in range order, blocking in {@code next()} until the next one is in, so the caller can
 * commit range {@code i} while later ranges are still being scanned.
 */
public final class ProcessRangeScan {
    private ProcessRangeScan() {}

    private static final TaskRef TASK = TaskRef.of(ProcessRangeScan.class, "scanRange");

    /**
     * Scans {@code ranges} of {@code format} files on {@code pool}, one range per task.
     *
     * @return the results in range order; {@code next()} throws the pool's {@code CompletionException} (with the
     *         worker's exception or crash as its cause) if a range failed
     */
    public static Iterator<RangeResult> scan(ProcessPool pool, List<ByteRange> ranges, RecordFormat format) {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(format, "format");
        List<List<?>> calls = new ArrayList<>(ranges.size());
        for (ByteRange r : ranges) {
            calls.add(List.of(r.file().toString(), (long) r.fileIndex(), (long) r.rangeIndex(), r.start(), r.end(),
                    r.gzip(), format.name()));
        }
        Iterator<Object> parts = pool.imap(TASK, calls, 1);
        Iterator<ByteRange> order = ranges.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() { return parts.hasNext(); }

            @Override
            public RangeResult next() { return decode(order.next(), (List<?>) parts.next()); }
        };
    }

    // One scanner per worker thread: a worker runs one chunk at a time, and the scanner's buffer is reused.
    private static final ThreadLocal<RangeScanner[]> SCANNERS =
            ThreadLocal.withInitial(() -> new RangeScanner[RecordFormat.values().length]);

    /**
     * Runs in a worker JVM: scans one range. Returns {@code [packed, reasons]}: {@code packed} holds lines, records,
     * filtered, bytes read, n aggregates, m rejects, then n (key, count, sum) triples and the m rejects' local line
     * numbers; {@code reasons} the m reject reasons.
     */
    static List<Object> scanRange(List<?> call) throws IOException {
        RecordFormat f = RecordFormat.valueOf((String) call.get(6));
        RangeScanner[] scanners = SCANNERS.get();
        if (scanners[f.ordinal()] == null) scanners[f.ordinal()] = new RangeScanner(f);
        RangeResult r = scanners[f.ordinal()].scan(new ByteRange(Path.of((String) call.get(0)),
                Math.toIntExact((Long) call.get(1)), Math.toIntExact((Long) call.get(2)), (Long) call.get(3),
                (Long) call.get(4), (Boolean) call.get(5)));
        Aggregates a = r.aggregates();
        ByteBuffer out = ByteBuffer.allocate(Long.BYTES * (6 + 3 * a.size() + r.rejects().size()));
        out.putLong(r.lines()).putLong(r.records()).putLong(r.filtered()).putLong(r.bytesRead()).putLong(a.size())
                .putLong(r.rejects().size());
        a.forEach((key, count, sum) -> out.putLong(key).putLong(count).putLong(sum));
        List<String> reasons = new ArrayList<>(r.rejects().size());
        for (RangeResult.Reject reject : r.rejects()) {
            out.putLong(reject.localLine());
            reasons.add(reject.reason());
        }
        return List.of(out.array(), reasons);
    }

    private static RangeResult decode(ByteRange range, List<?> part) {
        ByteBuffer in = ByteBuffer.wrap((byte[]) part.get(0));
        List<?> reasons = (List<?>) part.get(1);
        long lines = in.getLong(), records = in.getLong(), filtered = in.getLong(), read = in.getLong();
        long n = in.getLong(), m = in.getLong();
        Aggregates aggregates = new Aggregates();
        for (long i = 0; i < n; i++) aggregates.add(in.getLong(), in.getLong(), in.getLong());
        List<RangeResult.Reject> rejects = new ArrayList<>((int) m);
        for (int i = 0; i < m; i++) rejects.add(new RangeResult.Reject(in.getLong(), (String) reasons.get(i)));
        return new RangeResult(range, lines, records, filtered, List.copyOf(rejects), aggregates, read);
    }
}
