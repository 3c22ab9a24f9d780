package dev.conclab.lab.experiments.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.etl.EtlJob;
import dev.conclab.etl.checkpoint.CheckpointStore;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.load.AggregateSink;
import dev.conclab.etl.parallel.ProcessRangeScan;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.Aggregates;
import dev.conclab.etl.scan.NewlineCount;
import dev.conclab.etl.scan.RangeResult;
import dev.conclab.etl.scan.RangeScanner;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.pool.ProcessPool;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One ETL job, four ways to run it, one answer: sequential, on the pipeline engine's threads, on worker JVMs, and
 * CPython's csv module on one thread, on threads and on processes, over the same generated files.
 *
 * <p><b>BASELINE:</b> one thread scanning the byte ranges in order (parse bytes in place, validate, convert to EUR,
 * aggregate per (country, day)), committing each range to a checkpoint (in memory here), then loading the committed
 * totals into a CSV file: what {@code EtlJob} does, without the pipeline. <b>Variants</b> (same ranges, same
 * per-range commit, same sink):
 * <ul>
 *   <li><b>threads:</b> {@code EtlJob} on the toolkit pipeline engine with one scan thread per core, a bounded
 *       channel between the range source and the scanners, a single committer (an in-memory checkpoint);</li>
 *   <li><b>worker JVMs:</b> the toolkit's {@code ProcessPool} with one worker per core; each worker reads its ranges
 *       itself and sends back only the range's counters, partial aggregates and rejects, committed in range order
 *       in the parent while later ranges are still being scanned. Timed twice: with the pool started for the job
 *       (JVM start-up and JIT warm-up on the clock) and with warm workers;</li>
 *   <li><b>ceiling:</b> a newline count of the same ranges with the same reads and threads, doing nothing else;</li>
 *   <li><b>CPython</b> (probe {@code etl_parallel.py}, over the first file(s)): {@code csv.reader} over each range
 *       with the same validation, sequentially, on a {@code ThreadPoolExecutor} and on a
 *       {@code ProcessPoolExecutor} started (and its workers forked) before the clock.</li>
 * </ul>
 * Every variant must load the same totals: the CSV files written from the JVM variants' totals are compared byte for
 * byte, and the probe's totals by a SHA-256 over the same sorted rows. Without that check a "faster" variant could
 * be one that dropped records.
 *
 * The JVM variants take turns (one run of each, then again), so a slow or fast spell of the machine is shared by
 * all of them rather than handed to one.
 *
 * <p>Run: {@code ./conclab run etl-models} (256 MB in 16 files; {@code --quick}: 64 MB in 16). Expect about 1.5-2×
 * from threads on two idle cores, warm worker JVMs no faster than threads (and often slower: the parent decodes and
 * commits every range's results, which the threads hand over by reference), workers started for the job several
 * times slower on these sizes (the run's note estimates the input size at which they would beat one thread),
 * CPython threads no faster than one thread (the GIL), CPython processes about 1.5× faster, and the csv module
 * about 50× slower per core than the JVM's byte parser.
 */
public final class EtlExecutionModels implements Experiment {

    static final ClaimSpec SAME_AGGREGATES = new ClaimSpec("same-aggregates",
            "Sequential, pipeline-engine threads and worker JVMs load byte-identical aggregates and reject files and"
                    + " count the same records from the same files.");
    static final ClaimSpec THREADS_FASTER = new ClaimSpec("threads-faster",
            "The ETL on the pipeline engine with one scan thread per core is at least 1.2× faster than the same job"
                    + " on one thread (needs 2 cores).");
    static final ClaimSpec BELOW_CEILING = new ClaimSpec("below-ceiling",
            "A newline count of the same files with the same threads is faster than the full ETL: parsing, not"
                    + " reading from the page cache, sets the ETL's speed.");
    static final ClaimSpec WORKERS_NO_GAIN = new ClaimSpec("workers-no-gain",
            "Warm worker JVMs, one per core, are no faster than the pipeline engine's threads on the same cores (at"
                    + " most 1.1× their speed): on one machine, processes add the transport of the results and"
                    + " nothing else.");
    static final ClaimSpec COLD_WORKERS_PAY = new ClaimSpec("cold-workers-pay",
            "Worker JVMs started for the job take at least 1.2× as long as the same job on warm workers: JVM start-up"
                    + " and JIT warm-up are on the clock.");
    static final ClaimSpec PY_SAME_AGGREGATES = new ClaimSpec("py-same-aggregates",
            "CPython's csv-module parse of the same file gives the JVM's totals per (country, day), on one thread,"
                    + " on threads and on processes (equal SHA-256 digests).");
    static final ClaimSpec PY_THREADS_NO_SPEEDUP = new ClaimSpec("py-threads-no-speedup",
            "Parsing with the csv module on a ThreadPoolExecutor of 2 threads is at most 1.2× faster than on one"
                    + " thread: the GIL runs one parse at a time.");
    static final ClaimSpec PY_PROCESSES_SPEEDUP = new ClaimSpec("py-processes-speedup",
            "Parsing byte ranges on a started ProcessPoolExecutor of 2 processes is at least 1.3× faster than on"
                    + " one thread (needs 2 cores).");

    private static final long SEED = 2026;
    private static final double BAD_RATE = 0.001;
    /** Best-of count for the short JVM runs (sequential, threads, warm workers): cheap, and steadier than 3. */
    private static final int FAST_REPEATS = 7;

    @Override
    public String id() {
        return "etl-models";
    }

    @Override
    public String title() {
        return "One ETL job sequential, on threads, on worker JVMs and in CPython: same totals, MB/s";
    }

    @Override
    public String description() {
        return "Runs the same CSV aggregation job over the same generated files on one thread, on the pipeline"
                + " engine's threads and on worker JVMs, beside a newline count as the ceiling, and the CPython csv"
                + " module sequentially, on threads and on processes; checks that every variant loads the same"
                + " totals and reports MB/s, records/s and the ratio to the ceiling.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("mb", "input size in MB", 4, 4_000, 256, 64),
                new Param.IntParam("files", "CSV files the input is cut into", 1, 1_000, 16, 16),
                new Param.IntParam("range-mb", "range size in MB", 1, 256, 12, 4),
                new Param.IntParam("py-files", "files the CPython probe parses (the first ones)", 1, 1_000, 1, 1),
                new Param.IntParam("py-range-kb", "CPython range size in KB", 64, 1_000_000, 2_000, 500),
                new Param.IntParam("py-repeat", "CPython runs per variant (best kept)", 1, 100, 7, 4));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SAME_AGGREGATES, THREADS_FASTER, BELOW_CEILING, WORKERS_NO_GAIN, COLD_WORKERS_PAY,
                PY_SAME_AGGREGATES,
                PY_THREADS_NO_SPEEDUP, PY_PROCESSES_SPEEDUP);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int cores = Math.max(2, ctx.cores());
        long rangeBytes = ctx.intParam("range-mb") * 1_000_000L;
        Path dir = Files.createTempDirectory("conclab-etl-models-");
        try {
            ctx.progress(0.02, "generating " + ctx.intParam("mb") + " MB of CSV");
            Path input = dir.resolve("in");
            new OrderGenerator().generate(new OrderGenerator.Spec(input, ctx.intParam("mb") * 1_000_000L,
                    ctx.intParam("files"),
                    RecordFormat.CSV, false, BAD_RATE, SEED));
            List<Path> files = EtlJob.inputFiles(input, RecordFormat.CSV);
            List<ByteRange> ranges = new RangeSplitter(rangeBytes).split(files);
            long bytes = ranges.stream().mapToLong(ByteRange::length).sum();

            Path seqOut = dir.resolve("sequential.csv");
            Path thrOut = dir.resolve("threads.csv");
            Path procOut = dir.resolve("processes.csv");
            CheckpointStore.Counters[] seq = new CheckpointStore.Counters[1];
            EtlJob.Result[] thr = new EtlJob.Result[1];
            CheckpointStore.Counters[] proc = new CheckpointStore.Counters[1];
            EtlJob.Config config = new EtlJob.Config(input, RecordFormat.CSV, thrOut.toString(), cores, null,
                    rejectsOf(thrOut), rangeBytes);

            ctx.progress(0.1, "JVM: " + cores + " worker JVMs started for the job");
            List<Duration> startups = new ArrayList<>();
            Timing coldTime = Measure.bestOf(ctx.quick() ? 1 : 2, ctx, () -> {
                try (ProcessPool pool = ProcessPool.of(cores)) {
                    proc[0] = processes(pool, files, ranges, procOut);
                    startups.addAll(pool.startupTimes());
                }
            });

            ctx.progress(0.25, "JVM: one thread, " + cores + " pipeline threads, " + cores
                    + " warm worker JVMs and the newline count, taking turns");
            Timing seqTime;
            Timing thrTime;
            Timing warmTime;
            Timing ceilingTime;
            try (ProcessPool pool = ProcessPool.of(cores)) {
                // Warm-up, so the scanner, the engine and the workers reach C2 before the clock starts.
                for (int i = 0; i < 2; i++) {
                    sequential(files, ranges, seqOut);
                    processes(pool, files, ranges, procOut);
                }
                new EtlJob(config, p -> {}).run();
                // The runs are short (about 0.1 s in quick mode), so more of them than the context's repeats are
                // cheap; taking turns gives every variant the same share of the machine's fast and slow spells
                // (on this kind of VM one busy core alone runs up to 1.6x faster than each of two busy cores).
                List<Timing> turns = Measure.bestOfEach(Math.max(ctx.repeats(), FAST_REPEATS), ctx, List.of(
                        () -> seq[0] = sequential(files, ranges, seqOut),
                        () -> thr[0] = new EtlJob(config, p -> {}).run(),
                        () -> proc[0] = processes(pool, files, ranges, procOut),
                        () -> NewlineCount.count(ranges, cores)));
                seqTime = turns.get(0);
                thrTime = turns.get(1);
                warmTime = turns.get(2);
                ceilingTime = turns.get(3);
            }
            int repeats = seqTime.seconds().size();

            byte[] seqBytes = Files.readAllBytes(seqOut);
            byte[] seqRejects = Files.readAllBytes(rejectsOf(seqOut));
            boolean threadsSame = Arrays.equals(seqBytes, Files.readAllBytes(thrOut))
                    && Arrays.equals(seqRejects, Files.readAllBytes(rejectsOf(thrOut)));
            boolean processesSame = Arrays.equals(seqBytes, Files.readAllBytes(procOut))
                    && Arrays.equals(seqRejects, Files.readAllBytes(rejectsOf(procOut)));
            long records = seq[0].records();
            long threadRecords = thr[0].counters().records();
            long processRecords = proc[0].records();
            long rejects = seq[0].rejects();
            boolean sameRejects = rejects == thr[0].counters().rejects() && rejects == proc[0].rejects();

            Table.Builder table = Table.builder(String.format("The same ETL job over %.0f MB in %d CSV files, %d"
                            + " ranges (best of %d)", mb(bytes), files.size(), ranges.size(), repeats),
                    "variant", "runtime", "workers", "MB", "ms", "MB/s", "records/s", "vs 1 thread", "of ceiling",
                    "same totals")
                    .row("1 thread, ranges in order", "JVM", 1, mb(bytes), seqTime.bestMillis(), rate(bytes, seqTime),
                            rate(records, seqTime) * 1e6, 1.0, ratio(ceilingTime, seqTime), "reference")
                    .row("pipeline engine (EtlJob), threads", "JVM", cores, mb(bytes), thrTime.bestMillis(),
                            rate(bytes, thrTime), rate(threadRecords, thrTime) * 1e6, ratio(seqTime, thrTime),
                            ratio(ceilingTime, thrTime), threadsSame ? "identical" : "DIFFERENT")
                    .row("worker JVMs, started for the job", "JVM", cores, mb(bytes), coldTime.bestMillis(),
                            rate(bytes, coldTime), rate(processRecords, coldTime) * 1e6, ratio(seqTime, coldTime),
                            ratio(ceilingTime, coldTime), processesSame ? "identical" : "DIFFERENT")
                    .row("worker JVMs, warm", "JVM", cores, mb(bytes), warmTime.bestMillis(), rate(bytes, warmTime),
                            rate(processRecords, warmTime) * 1e6, ratio(seqTime, warmTime),
                            ratio(ceilingTime, warmTime), processesSame ? "identical" : "DIFFERENT")
                    .row("newline count (ceiling)", "JVM", cores, mb(bytes), ceilingTime.bestMillis(),
                            rate(bytes, ceilingTime), "—", ratio(seqTime, ceilingTime), 1.0, "—");

            ctx.claim(SAME_AGGREGATES, Verdict.check(threadsSame && processesSame && records == threadRecords
                    && records == processRecords && records > 0 && sameRejects, String.format(
                    "output and reject files vs 1 thread: threads %s, worker JVMs %s (%d + %d bytes); records"
                            + " %d / %d / %d; rejects %d / %d / %d", threadsSame ? "identical" : "DIFFERENT",
                    processesSame ? "identical" : "DIFFERENT", seqBytes.length, seqRejects.length, records,
                    threadRecords,
                    processRecords, rejects, thr[0].counters().rejects(), proc[0].rejects())));
            if (ctx.requireCores(THREADS_FASTER, 2)) {
                ctx.claim(THREADS_FASTER, Verdict.atLeast(cores + " pipeline threads vs 1 thread",
                        Measure.speedup(seqTime, thrTime), 1.2));
            }
            ctx.claim(BELOW_CEILING, Verdict.atMost("full ETL on threads / newline count, in MB/s",
                    ratio(ceilingTime, thrTime), 0.9));
            if (ctx.requireCores(WORKERS_NO_GAIN, 2)) {
                ctx.claim(WORKERS_NO_GAIN, Verdict.atMost(cores + " warm worker JVMs vs " + cores
                        + " pipeline threads", Measure.speedup(thrTime, warmTime), 1.1));
            }

            double overhead = coldTime.best() - warmTime.best();
            double savedPerMb = (seqTime.best() - warmTime.best()) / mb(bytes);
            ctx.claim(COLD_WORKERS_PAY, Verdict.atLeast(String.format("started for the job vs warm, %.0f MB",
                    mb(bytes)), ratio(coldTime, warmTime), 1.2));
            ctx.note(String.format("Worker JVM start-up (launch to ready): %s ms; workers started for the job cost"
                            + " %.0f ms more than warm ones%s.", startups.stream().map(d -> Long.toString(d.toMillis()))
                            .toList(), overhead * 1e3,
                    savedPerMb > 0 ? String.format(", so they beat one thread only above about %.0f MB of input",
                            overhead / savedPerMb) : " and warm workers did not beat one thread here"));

            ctx.progress(0.65, "CPython: csv module, 1 thread, threads, processes");
            runProbe(ctx, files.subList(0, Math.min(files.size(), ctx.intParam("py-files"))), table,
                    rate(bytes, seqTime), rate(bytes, ceilingTime));
            ctx.table(table.build());
            ctx.progress(1, "done");
        } finally {
            deleteTree(dir);
        }
    }

    /** The CPython side; {@code jvmMbps} and {@code ceilingMbps} are the JVM's one thread and newline count. */
    private void runProbe(RunContext ctx, List<Path> pyFiles, Table.Builder table, double jvmMbps, double ceilingMbps)
            throws Exception {
        // The JVM's totals of exactly the probe's files, for the digest to compare with.
        Aggregates jvm = new Aggregates();
        long jvmPyRecords = 0, jvmPyRejects = 0;
        RangeScanner scanner = new RangeScanner(RecordFormat.CSV);
        for (ByteRange r : new RangeSplitter(1L << 20).split(pyFiles)) {
            RangeResult result = scanner.scan(r);
            jvm.addAll(result.aggregates());
            jvmPyRecords += result.records();
            jvmPyRejects += result.rejects().size();
        }
        String jvmDigest = digest(jvm);

        List<String> args = new ArrayList<>(List.of(
                "--range-bytes", Long.toString(ctx.intParam("py-range-kb") * 1_000L),
                "--workers", "2", "--repeat", Integer.toString(ctx.intParam("py-repeat")), "--files"));
        pyFiles.forEach(f -> args.add(f.toString()));
        ProbeOutcome outcome = PythonProbes.of(ctx).run("etl_parallel.py", List.of(), Duration.ofSeconds(300),
                args.toArray(String[]::new));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_SAME_AGGREGATES, PY_THREADS_NO_SPEEDUP, PY_PROCESSES_SPEEDUP);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                long pyBytes = json.path("bytes").asLong();
                long pyRecords = json.path("records").asLong();
                Timing seq = Timing.ofSeconds(json.path("sequential_s").asDouble());
                Timing threads = Timing.ofSeconds(json.path("threads_s").asDouble());
                Timing processes = Timing.ofSeconds(json.path("processes_s").asDouble());
                record PyRow(String variant, int workers, Timing time, String digestKey) {}
                for (PyRow row : List.of(new PyRow("csv module, 1 thread", 1, seq, "digest"),
                        new PyRow("csv module, ThreadPoolExecutor", 2, threads, "threads_digest"),
                        new PyRow("csv module, ProcessPoolExecutor", 2, processes, "processes_digest"))) {
                    Timing t = row.time();
                    table.row(row.variant(), "CPython", row.workers(), mb(pyBytes), t.bestMillis(), rate(pyBytes, t),
                            rate(pyRecords, t) * 1e6, ratio(seq, t), rate(pyBytes, t) / ceilingMbps,
                            jvmDigest.equals(json.path(row.digestKey()).asText()) ? "= JVM's" : "DIFFERENT");
                }
                ctx.note(String.format("Starting the ProcessPoolExecutor (fork) and one task in each worker took %.0f"
                        + " ms, outside the processes' timing.", json.path("pool_start_s").asDouble() * 1e3));
                ctx.note(String.format("The csv module on one thread parsed %.1f MB/s, 1/%.0f of the JVM's one thread"
                        + " (%.0f MB/s).", rate(pyBytes, seq), jvmMbps / rate(pyBytes, seq), jvmMbps));
                String d1 = json.path("digest").asText(), d2 = json.path("threads_digest").asText(),
                        d3 = json.path("processes_digest").asText();
                ctx.claim(PY_SAME_AGGREGATES, Verdict.check(jvmDigest.equals(d1) && jvmDigest.equals(d2)
                        && jvmDigest.equals(d3) && pyRecords == jvmPyRecords, String.format(
                        "JVM %s… (%d records, %d rejects); CPython 1 thread %s…, threads %s…, processes %s…"
                                + " (%d records, %d rejects)", jvmDigest.substring(0, 12), jvmPyRecords, jvmPyRejects,
                        prefix(d1), prefix(d2), prefix(d3), pyRecords, json.path("rejects").asLong())));
                // Gated like a speed-up claim: only with 2 cores could threads be faster at all, and a
                // neighbour's burst during the one-thread runs can fake a gain.
                if (ctx.requireCores(PY_THREADS_NO_SPEEDUP, 2)) {
                    ctx.claim(PY_THREADS_NO_SPEEDUP, Verdict.atMost("2 threads vs 1 thread",
                            Measure.speedup(seq, threads), 1.2));
                }
                if (ctx.requireCores(PY_PROCESSES_SPEEDUP, 2)) {
                    ctx.claim(PY_PROCESSES_SPEEDUP, Verdict.atLeast("2 processes vs 1 thread",
                            Measure.speedup(seq, processes), 1.3));
                }
            }
        }
    }

    /**
     * The baseline: one thread scans the ranges in order and does what {@code EtlJob} does per range and at the end
     * (commit the range to an in-memory checkpoint, load the committed totals), with no pipeline around it.
     */
    private static CheckpointStore.Counters sequential(List<Path> files, List<ByteRange> ranges, Path out)
            throws Exception {
        RangeScanner scanner = new RangeScanner(RecordFormat.CSV);
        Iterator<ByteRange> next = ranges.iterator();
        return commitAndLoad(new Iterator<>() {
            @Override
            public boolean hasNext() { return next.hasNext(); }

            @Override
            public RangeResult next() {
                try {
                    return scanner.scan(next.next());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }, files, out);
    }

    /** The ranges scanned in {@code pool}'s worker JVMs, committed here in range order as their results arrive. */
    private static CheckpointStore.Counters processes(ProcessPool pool, List<Path> files, List<ByteRange> ranges,
                                                      Path out) throws Exception {
        return commitAndLoad(ProcessRangeScan.scan(pool, ranges, RecordFormat.CSV), files, out);
    }

    /** Commits each range, then loads the totals into {@code out} and writes the reject file with EtlJob's writer. */
    private static CheckpointStore.Counters commitAndLoad(Iterator<RangeResult> results, List<Path> files, Path out)
            throws Exception {
        try (CheckpointStore store = CheckpointStore.open(null)) {
            while (results.hasNext()) store.commit(results.next());
            AggregateSink.forTarget(out.toString()).load(store.totals());
            EtlJob.writeRejects(rejectsOf(out), files, store.rejects());
            return store.counters();
        }
    }

    private static Path rejectsOf(Path output) {
        return Path.of(output + ".rejects.csv");
    }

    /** SHA-256 of the lines {@code CC,YYYY-MM-DD,count,sum} in key order: the probe computes the same. */
    static String digest(Aggregates totals) throws Exception {
        StringBuilder lines = new StringBuilder();
        for (long key : totals.sortedKeys()) {
            lines.append(Aggregates.country(key)).append(',').append(LocalDate.ofEpochDay(Aggregates.epochDay(key)))
                    .append(',').append(totals.count(key)).append(',').append(totals.sum(key)).append('\n');
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(lines.toString().getBytes(StandardCharsets.US_ASCII)));
    }

    private static String prefix(String digest) {
        return digest.length() < 12 ? digest : digest.substring(0, 12);
    }

    private static double mb(long bytes) {
        return bytes / 1e6;
    }

    /** Units per second (MB/s for bytes, millions/s for records), by the best run. */
    private static double rate(long units, Timing t) {
        return units / 1e6 / t.best();
    }

    /** slow / fast by best runs: how many times faster {@code fast} ran. */
    private static double ratio(Timing slow, Timing fast) {
        return slow.best() / fast.best();
    }

    /** Deletes {@code dir} and everything under it (the experiments' temp directories). */
    static void deleteTree(Path dir) throws java.io.IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
