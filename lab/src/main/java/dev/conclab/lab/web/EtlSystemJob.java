package dev.conclab.lab.web;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.Sizes;
import dev.conclab.etl.parse.RecordFormat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The etl page's run: makes a fresh temporary directory, generates order files into it with
 * {@link OrderGenerator} (seed 1, 0.1 % malformed records), runs {@link EtlJob} over them into a SQLite file with a
 * checkpoint, both in that directory, and deletes the directory when the run ends, however it ends. No path comes
 * from the client.
 *
 * <p>With the {@value #CRASH} switch the load is "crashed" once: the progress callback, on the first committed
 * range, interrupts the job and holds the commit thread until the job's pipeline is cancelled, so exactly one range
 * is committed; the job is then started again on the same checkpoint and resumes. Stateless; thread-safe.
 */
final class EtlSystemJob implements SystemJob {

    /** The switch of the "Crash and resume" action. */
    static final String CRASH = "crashAndResume";
    /** Least time between two loading progress events (the last one is always sent). */
    static final long INTERVAL_NANOS = 100_000_000L;
    private static final double BAD_RATE = 0.001;
    private static final long SEED = 1;

    /** A progress event of an etl run; {@code phase} is {@code generating}, {@code loading} or {@code resuming}. */
    record Progress(String phase, long bytesDone, long bytesTotal, long records, long rejects, double mbPerSecond,
                    double recordsPerSecond, long elapsedMs) {
    }

    /**
     * An etl run's summary: what was generated, the job's {@link EtlJob.Result} counters (over the whole input,
     * resumed ranges included), and this last run's speed.
     *
     * @param crashedAfterRanges the ranges committed when the load was crashed, or null when it was not
     */
    record Summary(int files, long generatedRecords, long malformedRecords, long generatedBytes, String format,
                   int threads, long rangeBytes, int ranges, int resumedRanges, int scannedRanges,
                   Integer crashedAfterRanges, long lines, long records, long filtered, long rejects, int groups,
                   long elapsedMs, double mbPerSecond, double recordsPerSecond, String output) {
    }

    private final int maxThreads;
    private final LongConsumer afterChunk;

    EtlSystemJob(int cores) {
        this(cores, written -> { });
    }

    /**
     * @param afterChunk called on the run's thread after each chunk the generator writes, with the bytes written so
     *                   far (tests hold the generation there to cancel it at a known point)
     */
    EtlSystemJob(int cores, LongConsumer afterChunk) {
        this.maxThreads = Math.max(1, cores * 2);
        this.afterChunk = afterChunk;
    }

    @Override
    public String key() {
        return "etl";
    }

    @Override
    public List<SystemParam> params() {
        return List.of(
                SystemParam.integer("size-mb", "Input to generate, MiB", 1, 256, 32),
                SystemParam.integer("files", "Input files", 1, 16, 4),
                SystemParam.integer("threads", "Scan workers", 1, maxThreads, Math.max(1, maxThreads / 2)),
                SystemParam.choice("format", "Input format", List.of("csv", "jsonl"), "csv"),
                SystemParam.integer("range-mb", "Byte range per work item, MiB", 1, 64, 4));
    }

    @Override
    public Set<String> switches() {
        return Set.of(CRASH);
    }

    @Override
    public Object run(Map<String, Object> values, Set<String> switches, SystemRun run) throws Exception {
        RecordFormat format = RecordFormat.parse((String) values.get("format"));
        int threads = (Integer) values.get("threads");
        long rangeBytes = Sizes.parse(values.get("range-mb") + "MB");
        Path dir = Files.createTempDirectory("conclab-etl-");
        run.workDir(dir);
        try {
            OrderGenerator.Spec spec = new OrderGenerator.Spec(dir.resolve("input"),
                    Sizes.parse(values.get("size-mb") + "MB"), (Integer) values.get("files"), format, false,
                    BAD_RATE, SEED);
            OrderGenerator.Result generated = generate(spec, run);
            EtlJob.Config config = new EtlJob.Config(spec.dir(), format, "sqlite:" + dir.resolve("orders.db"),
                    threads, dir.resolve("etl.checkpoint"), null, rangeBytes);
            EtlJob.Result result;
            Integer crashedAfter = null;
            if (switches.contains(CRASH)) {
                Crash crash = new Crash(Thread.currentThread());
                try {
                    result = new EtlJob(config, reporter(run, "loading", crash)).run();
                } catch (InterruptedException e) {
                    if (!crash.fired.get() || run.stopping().isPresent()) {
                        throw e;
                    }
                    crashedAfter = (int) crash.committed.get();
                    result = new EtlJob(config, reporter(run, "resuming", null)).run();
                }
            } else {
                result = new EtlJob(config, reporter(run, "loading", null)).run();
            }
            var c = result.counters();
            double seconds = result.elapsedNanos() / 1e9;
            return new Summary(generated.files().size(), generated.records(), generated.badRecords(),
                    generated.bytes(), format.extension(), threads, rangeBytes,
                    result.resumedRanges() + result.scannedRanges(), result.resumedRanges(), result.scannedRanges(),
                    crashedAfter, c.lines(), c.records(), c.filtered(), c.rejects(), result.groups(),
                    result.elapsedNanos() / 1_000_000, result.mbPerSecond(),
                    seconds == 0 ? 0 : c.records() / seconds, "SQLite (deleted with the run's directory)");
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Generates on the run's thread, publishing the bytes written at most every {@link #INTERVAL_NANOS}. A stop
     * interrupts this thread; the generator sees it at its next chunk, deletes its files and throws
     * {@link InterruptedException}.
     */
    private OrderGenerator.Result generate(OrderGenerator.Spec spec, SystemRun run)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long[] last = {t0 - INTERVAL_NANOS}; // only touched on this thread
        return new OrderGenerator().generate(spec, written -> {
            long now = System.nanoTime();
            if (now - last[0] >= INTERVAL_NANOS) {
                last[0] = now;
                long nanos = now - t0;
                run.progress(new Progress("generating", written, spec.bytes(), 0, 0,
                        written / 1e6 / (nanos / 1e9), 0, nanos / 1_000_000));
            }
            afterChunk.accept(written);
        });
    }

    /** The job's progress callback: publishes at most every {@link #INTERVAL_NANOS}, and crashes the job once. */
    private static Consumer<EtlJob.Progress> reporter(SystemRun run, String phase, Crash crash) {
        AtomicLong last = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);
        return p -> {
            long now = System.nanoTime();
            if (now - last.get() >= INTERVAL_NANOS || p.bytesDone() >= p.bytesTotal()) {
                last.set(now);
                run.progress(new Progress(phase, p.bytesDone(), p.bytesTotal(), p.records(), p.rejects(),
                        p.mbPerSecond(), p.recordsPerSecond(), p.elapsedNanos() / 1_000_000));
            }
            if (crash != null) {
                crash.atCommit();
            }
        };
    }

    /** The forced crash: fired by the first committed range, from the job's commit thread. */
    private static final class Crash {
        final Thread job;
        final AtomicBoolean fired = new AtomicBoolean();
        final AtomicLong committed = new AtomicLong();

        Crash(Thread job) {
            this.job = job;
        }

        /**
         * Counts the committed range; on the first, interrupts the job's thread (its pipeline then cancels, which
         * interrupts this commit thread) and waits here for that, so no other range is committed.
         */
        void atCommit() {
            committed.incrementAndGet();
            if (!fired.compareAndSet(false, true)) {
                return;
            }
            job.interrupt();
            try {
                new CountDownLatch(1).await(); // released only by the pipeline's cancel interrupting this thread
            } catch (InterruptedException cancelled) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Deletes {@code dir} and everything in it. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
