package dev.conclab.etl.input;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One unit of work: the lines of {@code file} whose first byte lies in {@code [start, end)}. A line that starts in
 * the range is read to its end even past {@code end}; a line that starts before {@code start} belongs to the range
 * before. A gzip file is one range covering the whole (compressed) file, since a gzip stream cannot be entered in
 * the middle. Immutable.
 *
 * @param file       the file
 * @param fileIndex  the file's position in the input (sorted by name)
 * @param rangeIndex the range's position in its file, from 0
 * @param start      the first byte offset owned (inclusive)
 * @param end        the last byte offset owned (exclusive); the file size for the last range
 * @param gzip       whether the file is gzip (then {@code start == 0} and {@code end} is the compressed size)
 */
public record ByteRange(Path file, int fileIndex, int rangeIndex, long start, long end, boolean gzip) {
    public ByteRange {
        Objects.requireNonNull(file, "file");
        if (start < 0 || end < start) throw new IllegalArgumentException("bad range [" + start + ", " + end + ")");
        if (gzip && start != 0) throw new IllegalArgumentException("a gzip file is one range from 0");
    }

    /** The bytes this range covers on disk (compressed bytes for gzip). */
    public long length() { return end - start; }
}
