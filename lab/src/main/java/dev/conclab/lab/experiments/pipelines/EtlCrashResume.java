package dev.conclab.lab.experiments.pipelines;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.RangeScanner;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * kill -9 in the middle of an ETL run, then a restart: the checkpointed job against a Broken loader without one.
 *
 * <p><b>BASELINE:</b> the ETL job ({@code EtlJob}, 2 scan threads, a SQLite checkpoint) run to the end without
 * interruption over generated CSV files with a few malformed records; its output and reject files are the
 * reference. <b>Variants:</b>
 * <ul>
 *   <li><b>checkpointed, killed and restarted:</b> the same job in a child JVM. After {@code kill-after} ranges are
 *       committed the child's committing thread holds still, so the kill lands at a known point; the parent polls
 *       the checkpoint itself (the {@code done_ranges} table) until it shows those ranges, then sends SIGKILL
 *       (no shutdown hook, no {@code finally}). The restart, with the same arguments and checkpoint, skips the
 *       committed ranges. Each range's done mark, partial aggregates and rejects are one SQLite transaction, and
 *       the output is loaded only from the committed totals, atomically, so the result equals the reference byte
 *       for byte.</li>
 *   <li><b>Broken, naive append:</b> a loader with no checkpoint that appends each range's rows to the output as
 *       soon as the range is scanned ({@link EtlNaiveAppendLoad}), killed the same way after {@code kill-after}
 *       ranges and restarted: it re-reads from the first range and appends again, so the ranges loaded before the
 *       kill are loaded twice, which the orders column shows.</li>
 * </ul>
 * The kill point is forced (the child waits on a latch nobody opens), not left to timing, so every run shows the
 * same outcome.
 *
 * <p>Run: {@code ./conclab run etl-crash-resume}. Expect identical files, {@code kill-after} ranges resumed, and the
 * naive loader over the reference by exactly the records of the ranges it loaded before the kill.
 */
public final class EtlCrashResume implements Experiment {

    static final ClaimSpec EXACTLY_ONCE = new ClaimSpec("exactly-once",
            "After a kill -9 and a restart, the checkpointed ETL writes output and reject files byte-identical to an"
                    + " uninterrupted run's, with the same record count: no record lost, none loaded twice.");
    static final ClaimSpec SKIPS_COMMITTED = new ClaimSpec("skips-committed",
            "The restart skips every range the checkpoint had committed before the kill and scans only the rest.");
    static final ClaimSpec BROKEN_DOUBLE_COUNTS = new ClaimSpec("broken-double-counts",
            "Broken: a loader without a checkpoint that appends each range's rows and re-reads from the start after"
                    + " the kill loads the records of the ranges finished before the kill twice.");

    private static final long SEED = 10;
    private static final double BAD_RATE = 0.002;

    @Override
    public String id() {
        return "etl-crash-resume";
    }

    @Override
    public String title() {
        return "ETL killed with kill -9 and restarted: checkpoint per range vs a naive append";
    }

    @Override
    public String description() {
        return "Kills an ETL child JVM after a set number of committed ranges, restarts it from its checkpoint and"
                + " compares the output and rejects with an uninterrupted run byte for byte; a loader without a"
                + " checkpoint, killed and restarted the same way, loads the early ranges twice.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("kb", "input size in KB (2 CSV files)", 64, 1_000_000, 32_000, 3_000),
                new Param.IntParam("range-kb", "range size in KB", 4, 64_000, 1_000, 128),
                new Param.IntParam("kill-after", "ranges committed before the kill", 1, 1_000, 4, 3));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(EXACTLY_ONCE, SKIPS_COMMITTED, BROKEN_DOUBLE_COUNTS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        long rangeBytes = ctx.intParam("range-kb") * 1_000L;
        int killAfter = ctx.intParam("kill-after");
        Path dir = Files.createTempDirectory("conclab-etl-crash-");
        try {
            Path input = dir.resolve("in");
            ctx.progress(0.05, "generating the input");
            new OrderGenerator().generate(new OrderGenerator.Spec(input, ctx.intParam("kb") * 1_000L, 2,
                    RecordFormat.CSV, false, BAD_RATE, SEED));
            List<ByteRange> ranges = new RangeSplitter(rangeBytes).split(EtlJob.inputFiles(input, RecordFormat.CSV));
            if (killAfter >= ranges.size()) {
                throw new IllegalArgumentException("kill-after must be below the number of ranges (" + ranges.size()
                        + " ranges of " + rangeBytes + " bytes); lower kill-after or range-kb, or raise kb");
            }

            ctx.progress(0.15, "the uninterrupted run");
            Path expected = dir.resolve("expected.csv");
            EtlJob.Result reference = new EtlJob(new EtlJob.Config(input, RecordFormat.CSV, expected.toString(), 2,
                    dir.resolve("expected-checkpoint.db"), null, rangeBytes), p -> {}).run();

            ctx.progress(0.3, "checkpointed run in a child JVM, killed after " + killAfter + " ranges");
            Path out = dir.resolve("out.csv");
            Path checkpoint = dir.resolve("checkpoint.db");
            Process child = startChild(ctx, "checkpoint", input, out, checkpoint, rangeBytes, killAfter);
            long committedAtKill;
            try {
                committedAtKill = awaitCommitted(checkpoint, killAfter, child);
                child.destroyForcibly(); // SIGKILL
            } finally {
                reap(child);
            }
            boolean outputBeforeRestart = Files.exists(out);
            ctx.progress(0.55, "restarting from the checkpoint");
            EtlJob.Result restart = new EtlJob(new EtlJob.Config(input, RecordFormat.CSV, out.toString(), 2,
                    checkpoint, null, rangeBytes), p -> {}).run();
            boolean sameOutput = Arrays.equals(Files.readAllBytes(out), Files.readAllBytes(expected));
            boolean sameRejects = Arrays.equals(Files.readAllBytes(Path.of(out + ".rejects.csv")),
                    Files.readAllBytes(Path.of(expected + ".rejects.csv")));
            long expectedRecords = reference.counters().records();

            ctx.progress(0.7, "Broken: naive append in a child JVM, killed after " + killAfter + " ranges");
            Path naive = dir.resolve("naive.csv");
            Process naiveChild = startChild(ctx, "naive", input, naive, dir.resolve("unused.db"), rangeBytes,
                    killAfter);
            try {
                awaitHolding(naiveChild);
                naiveChild.destroyForcibly();
            } finally {
                reap(naiveChild);
            }
            long naiveAtKill = EtlNaiveAppendLoad.loadedOrders(naive);
            EtlNaiveAppendLoad.run(input, naive, rangeBytes, n -> {}); // the restart: from the first range again
            long naiveLoaded = EtlNaiveAppendLoad.loadedOrders(naive);
            long firstRangesRecords = 0;
            RangeScanner scanner = new RangeScanner(RecordFormat.CSV);
            for (ByteRange r : ranges.subList(0, killAfter)) firstRangesRecords += scanner.scan(r).records();

            ctx.table(Table.builder("kill -9 after " + killAfter + " of " + ranges.size() + " ranges ("
                                    + ctx.intParam("kb") + " KB in 2 CSV files), then a restart",
                            "run", "ranges done at the kill", "ranges skipped on restart", "ranges scanned on restart",
                            "records loaded", "vs uninterrupted", "output = uninterrupted")
                    .row("uninterrupted (reference)", "—", 0, reference.scannedRanges(), expectedRecords, 0, "—")
                    .row("checkpoint per range, killed + restarted", committedAtKill, restart.resumedRanges(),
                            restart.scannedRanges(), restart.counters().records(),
                            restart.counters().records() - expectedRecords,
                            sameOutput && sameRejects ? "byte-identical" : "DIFFERENT")
                    .row("Broken: naive append, killed + restarted", killAfter, 0, ranges.size(), naiveLoaded,
                            naiveLoaded - expectedRecords, "—")
                    .build());

            ctx.claim(EXACTLY_ONCE, Verdict.check(sameOutput && sameRejects && !outputBeforeRestart
                    && restart.counters().records() == expectedRecords, String.format(
                    "output %s, rejects %s (%d bytes, %d bytes); records %d after the restart vs %d uninterrupted;"
                            + " no output existed at the kill: %s",
                    sameOutput ? "identical" : "DIFFERENT", sameRejects ? "identical" : "DIFFERENT",
                    Files.size(out), Files.size(Path.of(out + ".rejects.csv")), restart.counters().records(),
                    expectedRecords, !outputBeforeRestart)));
            ctx.claim(SKIPS_COMMITTED, Verdict.check(committedAtKill > 0 && restart.resumedRanges() == committedAtKill
                    && restart.resumedRanges() + restart.scannedRanges() == ranges.size(), String.format(
                    "%d of %d ranges committed at the kill; the restart skipped %d and scanned %d",
                    committedAtKill, ranges.size(), restart.resumedRanges(), restart.scannedRanges())));
            ctx.claim(BROKEN_DOUBLE_COUNTS, Verdict.check(firstRangesRecords > 0 && naiveAtKill == firstRangesRecords
                    && naiveLoaded - expectedRecords == firstRangesRecords, String.format(
                    "%d records appended before the kill; %d loaded after the restart vs %d uninterrupted: %d extra,"
                            + " the %d records of the first %d ranges",
                    naiveAtKill, naiveLoaded, expectedRecords, naiveLoaded - expectedRecords, firstRangesRecords,
                    killAfter)));
            ctx.progress(1, "done");
        } finally {
            EtlExecutionModels.deleteTree(dir);
        }
    }

    private static Process startChild(RunContext ctx, String mode, Path input, Path out, Path checkpoint,
                                      long rangeBytes, int holdAfter) throws IOException {
        // sqlite-jdbc extracts its native library into org.sqlite.tmpdir and deletes it at exit; a SIGKILLed child
        // never exits, so the copy goes into the run's directory, which the run deletes.
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx64m",
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Dorg.sqlite.tmpdir=" + out.getParent());
        Process child = ctx.children().track(launcher.start(EtlCrashResumeChild.class, mode, input.toString(),
                out.toString(), checkpoint.toString(), Long.toString(rangeBytes), Integer.toString(holdAfter)));
        child.getOutputStream().close();
        return child;
    }

    /**
     * Polls the child's checkpoint (read-only, beside the child's writes: SQLite's WAL lets a reader in) until it
     * holds {@code ranges} committed ranges, and returns the count then.
     */
    private static long awaitCommitted(Path checkpoint, int ranges, Process child) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                throw new IllegalStateException("the ETL child JVM exited (status " + child.exitValue()
                        + ") before committing " + ranges + " ranges: " + stderr(child));
            }
            long done = Files.exists(checkpoint) ? committed(checkpoint) : 0;
            if (done >= ranges) return done;
            Thread.sleep(2); // a poll interval, not a wait for luck: the child holds still at the count
        }
        throw new IllegalStateException("the checkpoint did not show " + ranges + " committed ranges within 60 s");
    }

    private static long committed(Path checkpoint) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + checkpoint.toAbsolutePath() + "?mode=ro");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM done_ranges")) {
            return rs.next() ? rs.getLong(1) : 0;
        } catch (SQLException e) {
            return 0; // not created yet, or locked while the child sets it up: poll again
        }
    }

    /** Reads the naive child's stdout until it says it holds still. */
    private static void awaitHolding(Process child) throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Boolean> holding = CompletableFuture.supplyAsync(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) if (line.equals("holding")) return true;
                    return false;
                } catch (IOException e) {
                    return false;
                }
            }, pool);
            boolean held;
            try {
                held = holding.get(60, TimeUnit.SECONDS);
            } finally {
                if (!holding.isDone()) child.destroyForcibly(); // unblocks the reader
            }
            if (!held) throw new IllegalStateException("the naive child JVM ended without holding: " + stderr(child));
        }
    }

    private static String stderr(Process child) {
        try {
            return new String(child.getErrorStream().readNBytes(4_000), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(stderr unreadable: " + e.getMessage() + ")";
        }
    }

    private static void reap(Process child) throws InterruptedException {
        child.destroyForcibly();
        if (!child.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("the child JVM did not exit");
    }
}
