package dev.conclab.etl.parallel;

import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;

/**
 * The running totals of a scan made of many ranges: the aggregates per (country, day) and the counters. Merging is
 * addition, so the order in which ranges are added does not change the result. Not thread safe: one thread adds
 * (the merging thread of a parallel scan).
 */
public final class ScanTotals {
    private final Aggregates aggregates = new Aggregates();
    private long ranges, lines, records, filtered, rejects, bytes;

    /** Adds one scanned range. */
    public void add(RangeResult result) {
        add(result.aggregates(), result.lines(), result.records(), result.filtered(), result.rejects().size(),
                result.bytesRead());
    }

    /** Adds one range's partial aggregates and counters. */
    public void add(Aggregates partial, long lines, long records, long filtered, long rejects, long bytes) {
        aggregates.addAll(partial);
        ranges++;
        this.lines += lines;
        this.records += records;
        this.filtered += filtered;
        this.rejects += rejects;
        this.bytes += bytes;
    }

    /** The merged aggregates (live: later {@code add}s change it). */
    public Aggregates aggregates() { return aggregates; }

    /** The ranges added. */
    public long ranges() { return ranges; }

    /** The lines of all ranges (header lines included). */
    public long lines() { return lines; }

    /** The good records aggregated. */
    public long records() { return records; }

    /** The good records the transform left out. */
    public long filtered() { return filtered; }

    /** The malformed records. */
    public long rejects() { return rejects; }

    /** The input bytes scanned. */
    public long bytes() { return bytes; }
}
