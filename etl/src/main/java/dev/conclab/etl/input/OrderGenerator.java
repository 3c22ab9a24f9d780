package dev.conclab.etl.input;

import dev.conclab.etl.parse.Orders;
import dev.conclab.etl.parse.RecordFormat;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.zip.GZIPOutputStream;

/**
 * Writes deterministic order files: the same {@link Spec} always produces the same bytes (file {@code i} draws from
 * its own generator seeded by {@code seed} and {@code i}, so files could be written in parallel). A fraction
 * {@code badRate} of the records is malformed in one of several ways, each rejected by the parsers with a distinct
 * reason. Cancellable by interrupting the generating thread: it stops within one chunk ({@value #CHUNK_BYTES} bytes)
 * and leaves none of its files behind. Not thread safe; one instance per call.
 */
public final class OrderGenerator {

    /**
     * What to generate.
     *
     * @param dir      the output directory (created if missing)
     * @param bytes    the total size to write, approximately (whole records; compressed files count uncompressed)
     * @param files    the number of files, at least 1
     * @param format   CSV (with a header line) or JSON lines
     * @param gzip     whether to gzip each file
     * @param badRate  the fraction of malformed records, in [0, 1]
     * @param seed     the seed
     */
    public record Spec(Path dir, long bytes, int files, RecordFormat format, boolean gzip, double badRate, long seed) {
        public Spec {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(format, "format");
            if (bytes < 1) throw new IllegalArgumentException("size must be positive: " + bytes);
            if (files < 1 || files > 10_000) throw new IllegalArgumentException("files must be in [1, 10000]: " + files);
            if (!(badRate >= 0 && badRate <= 1)) throw new IllegalArgumentException("bad-rate must be in [0, 1]: " + badRate);
        }
    }

    /** What was written. */
    public record Result(List<Path> files, long records, long badRecords, long bytes) {}

    /** The bytes written between two checks of the interrupt status. */
    public static final int CHUNK_BYTES = 1 << 20;

    static final String[] COUNTRIES = {"DE", "FR", "GB", "US", "JP", "CH", "SE", "IT", "ES", "NL",
            "PL", "AT", "BE", "DK", "FI", "NO", "PT", "IE", "CA", "AU"};
    private static final int DAYS = 90;
    private static final LocalDate FIRST_DAY = LocalDate.of(2026, 1, 1);
    private static final byte[][] DAY_TEXT = new byte[DAYS][];

    static {
        for (int d = 0; d < DAYS; d++) DAY_TEXT[d] = FIRST_DAY.plusDays(d).toString().getBytes(StandardCharsets.US_ASCII);
    }

    private final byte[] line = new byte[256];

    /** Generates the files of {@code spec} as {@link #generate(Spec, LongConsumer)} does, with no progress callback. */
    public Result generate(Spec spec) throws IOException, InterruptedException {
        return generate(spec, written -> { });
    }

    /**
     * Generates the files of {@code spec}, replacing files of the same names, on the calling thread.
     *
     * <p>Cancellable by interruption, as {@code EtlJob.run} is: after each {@value #CHUNK_BYTES} bytes of a file it
     * calls {@code afterChunk} with the bytes written so far, then checks the calling thread's interrupt status (it
     * also checks before each file, and calls {@code afterChunk} once more with the total at the end). When the
     * status is set, or when anything fails, the files this call wrote are deleted (the partial one included) and
     * the interruption is thrown as {@link InterruptedException} (status cleared). Files are written through plain
     * streams, not interruptible channels, so an interrupt never breaks a write halfway.
     *
     * @param afterChunk called on the calling thread with the bytes written so far (uncompressed)
     * @throws InterruptedException when the thread was interrupted; no file of this call is left
     */
    public Result generate(Spec spec, LongConsumer afterChunk) throws IOException, InterruptedException {
        Objects.requireNonNull(afterChunk, "afterChunk");
        Files.createDirectories(spec.dir());
        List<Path> paths = new ArrayList<>();
        try {
            return write(spec, afterChunk, paths);
        } catch (Throwable failure) {
            for (Path p : paths) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    failure.addSuppressed(e);
                }
            }
            throw failure;
        }
    }

    /** Writes the files, adding each path to {@code paths} before it is opened, so a failure can delete it. */
    private Result write(Spec spec, LongConsumer afterChunk, List<Path> paths)
            throws IOException, InterruptedException {
        long perFile = Math.max(1, spec.bytes() / spec.files());
        long records = 0, bad = 0, written = 0, nextId = 1;
        for (int f = 0; f < spec.files(); f++) {
            checkInterrupt();
            String name = String.format("orders-%04d.%s%s", f, spec.format().extension(), spec.gzip() ? ".gz" : "");
            Path path = spec.dir().resolve(name);
            paths.add(path);
            SplittableRandom random = new SplittableRandom(spec.seed() * 1_000_003L + f);
            try (OutputStream raw = new FileOutputStream(path.toFile());
                 OutputStream out = new BufferedOutputStream(spec.gzip() ? new GZIPOutputStream(raw, 1 << 16) : raw, 1 << 16)) {
                long fileBytes = 0;
                long nextCheck = CHUNK_BYTES;
                if (spec.format() == RecordFormat.CSV) {
                    byte[] header = (Orders.CSV_HEADER + "\n").getBytes(StandardCharsets.US_ASCII);
                    out.write(header);
                    fileBytes += header.length;
                }
                while (fileBytes < perFile) {
                    boolean malformed = random.nextDouble() < spec.badRate();
                    int n = record(spec.format(), nextId++, random, malformed ? 1 + random.nextInt(MALFORMATIONS) : 0);
                    out.write(line, 0, n);
                    fileBytes += n;
                    records++;
                    if (malformed) bad++;
                    if (fileBytes >= nextCheck) {
                        nextCheck += CHUNK_BYTES;
                        afterChunk.accept(written + fileBytes);
                        checkInterrupt();
                    }
                }
                written += fileBytes;
            }
        }
        afterChunk.accept(written);
        return new Result(List.copyOf(paths), records, bad, written);
    }

    private static void checkInterrupt() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("order generation interrupted");
        }
    }

    private static final int MALFORMATIONS = 6;

    /** Writes one record (with its newline) into {@link #line}; {@code defect} 0 is a good record. */
    private int record(RecordFormat format, long id, SplittableRandom r, int defect) {
        int day = r.nextInt(DAYS);
        int secondOfDay = r.nextInt(86_400);
        int customer = r.nextInt(1_000_000);
        String country = COUNTRIES[r.nextInt(COUNTRIES.length)];
        long cents = 100 + r.nextLong(500_000);
        int currency = r.nextInt(Orders.CURRENCIES.length);
        int status = weightedStatus(r);
        Writer w = new Writer(line);
        boolean json = format == RecordFormat.JSONL;
        if (json) w.ascii("{\"id\":");
        w.number(id);
        w.ascii(json ? ",\"ts\":\"" : ",");
        if (defect == 1) w.ascii("2026-13-40T00:00:00Z");
        else timestamp(w, day, secondOfDay);
        w.ascii(json ? "\",\"customer\":\"C" : ",C");
        w.number(1_000_000 + customer);
        w.ascii(json ? "\",\"country\":\"" : ",");
        w.ascii(defect == 2 ? "d3" : country);
        w.ascii(json ? "\",\"amount\":" : ",");
        if (defect == 3) w.ascii("12x.50");
        else if (defect == 4) w.ascii("-").cents(cents);
        else w.cents(cents);
        if (defect == 5) { // truncated record: the last fields are missing
            return w.ascii("\n").length();
        }
        w.ascii(json ? ",\"currency\":\"" : ",");
        w.ascii(defect == 6 ? "XYZ" : Orders.CURRENCIES[currency]);
        w.ascii(json ? "\",\"status\":\"" : ",");
        w.ascii(Orders.STATUSES[status]);
        w.ascii(json ? "\"}\n" : "\n");
        return w.length();
    }

    private static int weightedStatus(SplittableRandom r) {
        int p = r.nextInt(100);
        return p < 70 ? 0 : p < 90 ? 1 : p < 96 ? 2 : 3;
    }

    private static void timestamp(Writer w, int day, int secondOfDay) {
        w.bytes(DAY_TEXT[day]).ascii("T").two(secondOfDay / 3600).ascii(":").two(secondOfDay / 60 % 60)
                .ascii(":").two(secondOfDay % 60).ascii("Z");
    }

    /** Appends ASCII into a line buffer. */
    private static final class Writer {
        private final byte[] b;
        private int n;

        Writer(byte[] b) { this.b = b; }

        Writer ascii(String s) {
            for (int i = 0; i < s.length(); i++) b[n++] = (byte) s.charAt(i);
            return this;
        }

        Writer bytes(byte[] s) {
            System.arraycopy(s, 0, b, n, s.length);
            n += s.length;
            return this;
        }

        Writer two(int v) {
            b[n++] = (byte) ('0' + v / 10);
            b[n++] = (byte) ('0' + v % 10);
            return this;
        }

        Writer number(long v) {
            int start = n;
            do { b[n++] = (byte) ('0' + v % 10); v /= 10; } while (v > 0);
            for (int i = start, j = n - 1; i < j; i++, j--) { byte t = b[i]; b[i] = b[j]; b[j] = t; }
            return this;
        }

        Writer cents(long c) {
            number(c / 100).ascii(".").two((int) (c % 100));
            return this;
        }

        int length() { return n; }
    }
}
