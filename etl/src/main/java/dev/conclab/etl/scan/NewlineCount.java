package dev.conclab.etl.scan;

import dev.conclab.etl.input.ByteRange;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

/**
 * The ceiling an ETL run is measured against: count the newlines of the same ranges with the same reads and the
 * same number of threads, doing nothing else. Stateless; {@link #count} blocks until done and leaves no thread.
 */
public final class NewlineCount {
    private NewlineCount() {}

    /** The count and how long it took. */
    public record Result(long newlines, long bytes, long nanos) {
        /** MB/s (MB = 10^6 bytes). */
        public double mbPerSecond() { return nanos == 0 ? 0 : bytes / 1e6 / (nanos / 1e9); }
    }

    /** Counts the newlines of {@code ranges} on {@code threads} threads. */
    public static Result count(List<ByteRange> ranges, int threads) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long newlines = 0, bytes = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("newline-count-", 0).factory())) {
            List<Future<long[]>> parts = ranges.stream().map(r -> pool.submit(() -> countRange(r))).toList();
            for (Future<long[]> f : parts) {
                long[] p = f.get();
                newlines += p[0];
                bytes += p[1];
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        return new Result(newlines, bytes, System.nanoTime() - t0);
    }

    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[RangeScanner.CHUNK]);

    private static long[] countRange(ByteRange r) throws IOException {
        byte[] buf = BUFFERS.get();
        long n = 0;
        if (r.gzip()) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(r.file()), 1 << 16)) {
                for (int k; (k = in.read(buf)) > 0; ) n += newlines(buf, k);
            }
            return new long[] {n, r.length()};
        }
        try (FileChannel ch = FileChannel.open(r.file(), StandardOpenOption.READ)) {
            for (long pos = r.start(); pos < r.end(); ) {
                int k = ch.read(ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, r.end() - pos)), pos);
                if (k <= 0) break;
                n += newlines(buf, k);
                pos += k;
            }
        }
        return new long[] {n, r.length()};
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A_0A0A_0A0A_0A0AL;
    private static final long LOW7 = 0x7F7F_7F7F_7F7F_7F7FL;

    /** The newlines of {@code b[0, len)}, eight bytes at a time: as fast as a plain Java loop over the bytes gets. */
    static long newlines(byte[] b, int len) {
        long n = 0;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            long x = (long) LONGS.get(b, i) ^ NEWLINES;
            // Exact zero-byte flags (no borrow between bytes): the high bit of each byte that was '\n'.
            long zero = ~(((x & LOW7) + LOW7) | x | LOW7);
            n += Long.bitCount(zero);
        }
        for (; i < len; i++) if (b[i] == '\n') n++;
        return n;
    }
}
