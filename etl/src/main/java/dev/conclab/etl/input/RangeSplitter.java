package dev.conclab.etl.input;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts files into {@link ByteRange}s of about {@code rangeBytes}. The cut points are plain byte offsets: the line
 * boundary is found by the scanner (a range skips the partial line it starts in, and finishes the line it ends in), so
 * splitting reads nothing and is deterministic: the same files and range size give the same ranges whatever the
 * thread count, which is what lets a checkpoint name ranges across restarts. Stateless and thread safe.
 */
public final class RangeSplitter {
    private final long rangeBytes;

    /** @throws IllegalArgumentException if {@code rangeBytes < 1} */
    public RangeSplitter(long rangeBytes) {
        if (rangeBytes < 1) throw new IllegalArgumentException("rangeBytes must be positive: " + rangeBytes);
        this.rangeBytes = rangeBytes;
    }

    /** The ranges of {@code files} (in that order), gzip files ({@code .gz}) as one range each. */
    public List<ByteRange> split(List<Path> files) throws IOException {
        List<ByteRange> ranges = new ArrayList<>();
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            long size = Files.size(file);
            if (isGzip(file)) {
                ranges.add(new ByteRange(file, f, 0, 0, size, true));
                continue;
            }
            int index = 0;
            long start = 0;
            do {
                long end = Math.min(size, start + rangeBytes);
                ranges.add(new ByteRange(file, f, index++, start, end, false));
                start = end;
            } while (start < size);
        }
        return ranges;
    }

    static boolean isGzip(Path file) {
        return file.getFileName().toString().endsWith(".gz");
    }
}
