package dev.conclab.etl.scan;

import dev.conclab.etl.input.ByteRange;

import java.util.List;

/**
 * What scanning one {@link ByteRange} produced. Immutable once built (the aggregates are not copied: the scanner
 * hands them over and keeps no reference).
 *
 * @param range      the range
 * @param lines      the lines that start in the range (header included)
 * @param records    the good records aggregated
 * @param filtered   the good records left out by the transform (cancelled or refunded)
 * @param rejects    the malformed records, with their line number within the range (1-based)
 * @param aggregates the range's partial aggregates
 * @param bytesRead  the bytes read from disk for the range (compressed bytes for gzip)
 */
public record RangeResult(ByteRange range, long lines, long records, long filtered, List<Reject> rejects,
                          Aggregates aggregates, long bytesRead) {

    /** A malformed record: its line number counted from the range's first line (1-based) and the reason. */
    public record Reject(long localLine, String reason) {}
}
