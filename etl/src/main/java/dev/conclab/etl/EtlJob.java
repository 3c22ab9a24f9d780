package dev.conclab.etl;

import dev.conclab.etl.checkpoint.CheckpointStore;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.load.AggregateSink;
import dev.conclab.etl.load.AtomicFiles;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;

import dev.conclab.toolkit.pipeline.DeadLetter;
import dev.conclab.toolkit.pipeline.Flow;
import dev.conclab.toolkit.pipeline.Pipeline;
import dev.conclab.toolkit.pipeline.PipelineBuilder;
import dev.conclab.toolkit.pipeline.StageOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One ETL run over a directory: split → scan (parse, validate, transform, aggregate) on {@code threads} workers →
 * commit each range to the {@link CheckpointStore} → load the totals into the {@link AggregateSink} and write the
 * reject file. Runs on the toolkit pipeline engine: the scan stage's bounded input channel is the backpressure
 * between the range source and the workers, and the single commit worker is SQLite's single writer.
 *
 * <p>Restartable: with a checkpoint file, a run killed at any point and started again with the same arguments skips
 * the committed ranges and ends with the same output files, byte for byte, as a run never interrupted (see
 * {@link CheckpointStore} for why). Not thread safe: one {@link #run()} per instance. Blocks until done.
 */
public final class EtlJob {

    /**
     * What to run.
     *
     * @param input      the directory of input files ({@code *.csv[.gz]} or {@code *.jsonl[.gz]}, by format)
     * @param format     the input format
     * @param output     {@code sqlite:DB} or a CSV / JSON-lines file path
     * @param threads    the scan workers, at least 1
     * @param checkpoint the checkpoint file, or null to keep progress in memory (no resume)
     * @param rejects    the reject file, or null for the output path plus {@code .rejects.csv}
     * @param rangeBytes the size of a range of an uncompressed file
     */
    public record Config(Path input, RecordFormat format, String output, int threads, Path checkpoint, Path rejects,
                         long rangeBytes) {
        /** The default range size: 16 MB, enough ranges for a few cores on a few hundred MB. */
        public static final long DEFAULT_RANGE_BYTES = 16L << 20;

        public Config {
            Objects.requireNonNull(input, "input");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(output, "output");
            if (threads < 1 || threads > 256) throw new IllegalArgumentException("threads must be in [1, 256]: " + threads);
            if (rangeBytes < 1) throw new IllegalArgumentException("rangeBytes must be positive: " + rangeBytes);
        }

        Path rejectFile() {
            if (rejects != null) return rejects;
            String base = output.startsWith("sqlite:") ? output.substring("sqlite:".length()) : output;
            return Path.of(base + ".rejects.csv");
        }
    }

    /** Progress after each committed range. Bytes and records include ranges committed by earlier runs. */
    public record Progress(long bytesDone, long bytesTotal, long records, long rejects, long elapsedNanos,
                           long bytesThisRun, long recordsThisRun) {
        /** MB/s of this run (MB = 10^6 bytes). */
        public double mbPerSecond() { return elapsedNanos == 0 ? 0 : bytesThisRun / 1e6 / (elapsedNanos / 1e9); }

        /** Records per second of this run. */
        public double recordsPerSecond() { return elapsedNanos == 0 ? 0 : recordsThisRun / (elapsedNanos / 1e9); }
    }

    /**
     * What a run did.
     *
     * @param resumedRanges the ranges already committed by an earlier run, skipped
     * @param scannedRanges the ranges scanned by this run
     * @param counters      totals over the whole input (earlier runs included)
     * @param groups        the rows loaded (country, day)
     * @param elapsedNanos  this run's wall time
     * @param bytesThisRun  the input bytes scanned by this run
     */
    public record Result(int resumedRanges, int scannedRanges, CheckpointStore.Counters counters, int groups,
                         long elapsedNanos, long bytesThisRun) {
        /** MB/s of this run's scanning and loading (MB = 10^6 bytes). */
        public double mbPerSecond() { return elapsedNanos == 0 ? 0 : bytesThisRun / 1e6 / (elapsedNanos / 1e9); }
    }

    /** A range failed to scan or commit; the checkpoint holds what was committed, so a rerun resumes. */
    public static final class EtlException extends Exception {
        EtlException(String message, Throwable cause) { super(message, cause); }
    }

    /** Part of the plan fingerprint, so a checkpoint written in an older layout is refused, not misread. */
    private static final String CHECKPOINT_LAYOUT = "layout 2 (aggregates per range)";

    private final Config config;
    private final Consumer<Progress> progress;

    /** A job; {@code progress} is called from the commit thread after each range. */
    public EtlJob(Config config, Consumer<Progress> progress) {
        this.config = Objects.requireNonNull(config, "config");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /**
     * The input files of {@code dir} for {@code format}, sorted by name.
     *
     * @throws IllegalArgumentException if the directory is missing or holds no such file
     */
    public static List<Path> inputFiles(Path dir, RecordFormat format) throws IOException {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("input directory not found: " + dir);
        String ext = "." + format.extension();
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(ext) || p.getFileName().toString().endsWith(ext + ".gz"))
                    .sorted().toList();
            if (files.isEmpty()) {
                throw new IllegalArgumentException("no *" + ext + " or *" + ext + ".gz files in " + dir);
            }
            return files;
        }
    }

    /** Runs (or resumes) the job to the end. */
    public Result run() throws IOException, SQLException, InterruptedException, EtlException {
        long t0 = System.nanoTime();
        AggregateSink sink = AggregateSink.forTarget(config.output());
        List<Path> files = inputFiles(config.input(), config.format());
        List<ByteRange> ranges = new RangeSplitter(config.rangeBytes()).split(files);
        long bytesTotal = ranges.stream().mapToLong(ByteRange::length).sum();
        try (CheckpointStore store = CheckpointStore.open(config.checkpoint())) {
            store.bindPlan(fingerprint(files));
            Set<Long> done = store.doneRanges();
            List<ByteRange> pending = ranges.stream()
                    .filter(r -> !done.contains(CheckpointStore.id(r.fileIndex(), r.rangeIndex()))).toList();
            CheckpointStore.Counters before = store.counters();
            long bytesThisRun = scan(pending, store, before, bytesTotal, t0);
            CheckpointStore.Counters after = store.counters();
            Aggregates totals = store.totals();
            sink.load(totals);
            writeRejects(config.rejectFile(), files, store.rejects());
            return new Result(ranges.size() - pending.size(), pending.size(), after, totals.size(),
                    System.nanoTime() - t0, bytesThisRun);
        }
    }

    private long scan(List<ByteRange> pending, CheckpointStore store, CheckpointStore.Counters before,
                      long bytesTotal, long t0) throws InterruptedException, EtlException {
        if (pending.isEmpty()) return 0;
        ConcurrentLinkedQueue<DeadLetter> failures = new ConcurrentLinkedQueue<>();
        ThreadLocal<RangeScanner> scanners = ThreadLocal.withInitial(() -> new RangeScanner(config.format()));
        long[] run = {0, 0, before.bytes(), before.records(), before.rejects()}; // bytes, records this run; totals
        PipelineBuilder b = Pipeline.builder().deadLetters(failures::add);
        Flow<ByteRange> source = b.source("ranges", pending);
        Flow<RangeResult> scanned = source.map("scan",
                StageOptions.parallel(config.threads()).withCapacity(Math.max(2, config.threads() * 2)),
                range -> scanners.get().scan(range));
        scanned.sink("commit", result -> {
            store.commit(result);
            run[0] += result.bytesRead();
            run[1] += result.records();
            run[2] += result.bytesRead();
            run[3] += result.records();
            run[4] += result.rejects().size();
            progress.accept(new Progress(run[2], bytesTotal, run[3], run[4], System.nanoTime() - t0, run[0], run[1]));
        });
        Pipeline p = b.start();
        try {
            p.await();
        } finally {
            p.close();
        }
        if (!failures.isEmpty() || p.failure().isPresent()) {
            Throwable cause = failures.isEmpty() ? p.failure().get() : failures.peek().cause();
            String where = failures.isEmpty() ? "" : " in stage " + failures.peek().stage()
                    + (failures.peek().item() instanceof ByteRange r ? " (" + r.file() + " [" + r.start() + ", " + r.end() + "))" : "");
            throw new EtlException("ETL failed" + where + ": " + cause + "; committed ranges are kept, rerun to resume", cause);
        }
        return run[0];
    }

    /**
     * Writes the reject file ({@code file,line,reason}, one row per rejected line, in the order given) all or
     * nothing, as a run does; {@code files} are the run's input files, indexed by {@code fileIndex}.
     */
    public static void writeRejects(Path target, List<Path> files, List<CheckpointStore.GlobalReject> rejects)
            throws IOException {
        AtomicFiles.write(target, out -> {
            out.write("file,line,reason\n");
            for (CheckpointStore.GlobalReject r : rejects) {
                out.write(files.get(r.fileIndex()).getFileName() + "," + r.line() + "," + r.reason() + "\n");
            }
        });
    }

    private String fingerprint(List<Path> files) throws IOException {
        List<String> parts = new ArrayList<>();
        parts.add(CHECKPOINT_LAYOUT);
        parts.add(config.format().name());
        parts.add(Long.toString(config.rangeBytes()));
        for (Path f : files) parts.add(f.getFileName() + ":" + Files.size(f));
        return String.join("|", parts);
    }
}
