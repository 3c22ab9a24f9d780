package dev.conclab.etl.scan;

import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.parse.OrderFields;
import dev.conclab.etl.parse.OrderParser;
import dev.conclab.etl.parse.Orders;
import dev.conclab.etl.parse.RecordFormat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.GZIPInputStream;

/**
 * Reads one {@link ByteRange} in large chunks into a byte array and parses each line in place: no String, no object
 * per line, only a reused {@link OrderFields}. Validates (the parser's reject reasons), transforms (amount to EUR,
 * cancelled and refunded orders left out) and aggregates per (country, day). Not thread safe: one scanner per
 * thread; the buffer is reused across ranges. Blocks on file I/O.
 */
public final class RangeScanner {
    static final int CHUNK = 1 << 20;
    /** A line longer than this is rejected as such rather than growing the buffer without bound. */
    static final int MAX_LINE = 1 << 16;

    private final OrderParser parser;
    private final OrderFields fields = new OrderFields();
    private byte[] buf = new byte[CHUNK + MAX_LINE];

    /** A scanner for {@code format}. */
    public RangeScanner(RecordFormat format) {
        this.parser = OrderParser.of(Objects.requireNonNull(format, "format"));
    }

    /** Scans {@code range}. */
    public RangeResult scan(ByteRange range) throws IOException {
        if (range.gzip()) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(range.file()), 1 << 16)) {
                return scan(range, in::read, Long.MAX_VALUE, false);
            }
        }
        try (FileChannel ch = FileChannel.open(range.file(), StandardOpenOption.READ)) {
            long first = range.start() == 0 ? 0 : range.start() - 1;
            long[] pos = {first};
            Chunks source = (b, off, len) -> {
                int n = ch.read(ByteBuffer.wrap(b, off, len), pos[0]);
                if (n > 0) pos[0] += n;
                return n;
            };
            // Starting one byte early: if that byte is a newline, the range begins exactly at a line start.
            return scan(range, source, range.end() - first, range.start() > 0);
        }
    }

    /** Reads chunks from {@code source}. */
    @FunctionalInterface
    interface Chunks {
        int read(byte[] b, int off, int len) throws IOException;
    }

    // Per-range state of the scan in progress (the scanner is confined to one thread).
    private Aggregates aggregates;
    private List<RangeResult.Reject> rejects;
    private long lines, records, filtered;
    private boolean skipping, firstLineOfFile, pastLimit;

    /**
     * @param limit       lines starting at relative offset {@code >= limit} belong to the next range
     * @param skipPartial whether the first (partial) line belongs to the previous range
     */
    private RangeResult scan(ByteRange range, Chunks source, long limit, boolean skipPartial) throws IOException {
        aggregates = new Aggregates();
        rejects = new ArrayList<>();
        lines = 0; records = 0; filtered = 0;
        skipping = skipPartial;
        firstLineOfFile = range.start() == 0;
        pastLimit = false;
        long base = 0;          // relative offset of buf[0]
        int filled = 0;         // bytes in buf
        int lineStart = 0;      // index in buf of the current line's first byte
        boolean eof = false;
        long bytesRead = 0;
        while (true) {
            if (!eof && filled < buf.length) {
                int n = source.read(buf, filled, Math.min(CHUNK, buf.length - filled));
                if (n < 0) eof = true; else { filled += n; bytesRead += n; }
            }
            lineStart = consumeLines(lineStart, filled, base, limit);
            if (pastLimit) break;
            if (eof) {
                // A last line without a newline.
                if (lineStart < filled && !skipping && base + lineStart < limit) {
                    lines++;
                    handle(buf, lineStart, filled);
                }
                break;
            }
            if (base + lineStart >= limit && !skipping) break;
            // Keep the unfinished line at the front of the buffer.
            int carry = filled - lineStart;
            if (carry >= MAX_LINE) {
                if (!skipping) {
                    lines++;
                    rejects.add(new RangeResult.Reject(lines, "line too long"));
                }
                skipping = true; // drop the rest of the long line
                carry = 0;
                lineStart = filled;
            }
            System.arraycopy(buf, lineStart, buf, 0, carry);
            base += lineStart;
            filled = carry;
            lineStart = 0;
        }
        RangeResult result = new RangeResult(range, lines, records, filtered, List.copyOf(rejects), aggregates,
                range.gzip() ? range.length() : Math.min(bytesRead, range.length()));
        aggregates = null;
        rejects = null;
        return result;
    }

    /**
     * Handles the complete lines of {@code buf[lineStart, filled)}; a method of its own so the JIT compiles this hot
     * loop early (it is called once per chunk) instead of waiting to replace the long-running scan loop on stack.
     *
     * @return the start of the first line not handled (unfinished, or past the limit: then {@link #pastLimit})
     */
    private int consumeLines(int lineStart, int filled, long base, long limit) {
        byte[] b = buf;
        while (true) {
            if (!skipping && !firstLineOfFile) {
                lineStart = fastLines(b, lineStart, filled, limit - base);
                if (pastLimit) return lineStart;
            }
            // One line the fast path left (a reject, a header, a partial first line, the end of the buffer).
            int nl = indexOfNewline(b, lineStart, filled);
            if (nl < 0) return lineStart;
            if (skipping) {
                skipping = false;
            } else {
                if (base + lineStart >= limit) {
                    pastLimit = true;
                    return lineStart;
                }
                lines++;
                if (firstLineOfFile && parser.isHeader(b, lineStart, nl)) {
                    firstLineOfFile = false;
                } else {
                    firstLineOfFile = false;
                    handle(b, lineStart, nl);
                }
            }
            lineStart = nl + 1;
        }
    }

    /**
     * The hot loop: good records in the format's common shape, each parsed and its newline found in one pass
     * ({@link OrderParser#parseLine}), transformed and aggregated, with the counters in locals. Stops at the first line
     * the fast path declines or at {@code limit} (relative to {@code buf[0]}; then sets {@link #pastLimit}).
     *
     * @return the start of the first line not handled
     */
    private int fastLines(byte[] b, int p, int filled, long limit) {
        OrderParser parser = this.parser;
        OrderFields f = fields;
        Aggregates agg = aggregates;
        long lines = this.lines, records = this.records, filtered = this.filtered;
        while (p < limit) {
            int nl = parser.parseLine(b, p, filled, f);
            if (nl < 0) break;
            lines++;
            if (f.status != Orders.PAID && f.status != Orders.SHIPPED) {
                filtered++;
            } else {
                records++;
                agg.add(Aggregates.key(f.country, f.epochDay), 1, Orders.toEurCents(f.amountCents, f.currency));
            }
            p = nl + 1;
        }
        if (p >= limit) pastLimit = true;
        this.lines = lines;
        this.records = records;
        this.filtered = filtered;
        return p;
    }

    private void handle(byte[] b, int from, int to) {
        String reason = parser.parse(b, from, to, fields);
        if (reason != null) {
            rejects.add(new RangeResult.Reject(lines, reason));
        } else if (fields.status != Orders.PAID && fields.status != Orders.SHIPPED) {
            filtered++;
        } else {
            records++;
            aggregates.add(Aggregates.key(fields.country, fields.epochDay), 1,
                    Orders.toEurCents(fields.amountCents, fields.currency));
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A_0A0A_0A0A_0A0AL;
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGHS = 0x8080_8080_8080_8080L;

    /** The first newline in {@code b[from, to)}, eight bytes at a time (SWAR zero-byte test), or -1. */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long w = (long) LONGS.get(b, i) ^ NEWLINES;
            // The lowest flagged byte is always a true match (false positives only sit above a true zero byte).
            long hit = (w - ONES) & ~w & HIGHS;
            if (hit != 0) return i + (Long.numberOfTrailingZeros(hit) >>> 3);
        }
        for (; i < to; i++) if (b[i] == '\n') return i;
        return -1;
    }
}
