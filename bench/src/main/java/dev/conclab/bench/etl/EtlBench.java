package dev.conclab.bench.etl;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.input.Sizes;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.NewlineCount;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The ETL throughput target of issue 10, measured in this JVM (not JMH: each figure is one whole run over the file
 * set, the best of a few): "ETL on a 1 GB CSV file set in the page cache: ≥ 1 GB/s end to end (parse, validate,
 * transform, aggregate, load the aggregates) with both cores busy, reported beside a plain newline count of the same
 * files in the same run as the ceiling".
 * <ul>
 *   <li>the file set is generated once ({@code etl generate}, seed 1, 0.1% malformed) into
 *       {@code $TMPDIR/conclab-bench-etl/SIZE} and reused while its files have the expected sizes, then read once
 *       so it is in the page cache;</li>
 *   <li>one warm-up of each variant (the JIT), then {@code rounds} rounds of: the <b>newline count</b> of the same
 *       byte ranges with 1 and 2 threads ({@link NewlineCount}: the ceiling, reading and looking at every byte and
 *       nothing else), and the <b>whole ETL job</b> ({@link EtlJob}: split, parse, validate, transform, aggregate,
 *       commit each range, load the aggregates into a CSV file, write the reject file) with 1 and 2 threads, then 2
 *       threads again with a checkpoint file (SQLite, fsync per range: the restartable configuration);</li>
 *   <li>each figure is the best round, with the range over the rounds and the 1-minute load average read before
 *       it: on a shared machine the load says how much of the cores the run had; beside it the least process CPU
 *       time per GB over the rounds (every thread of this JVM, GC and JIT included), which the load barely moves:
 *       with 2 cores free, the wall time of a 2-thread run cannot be less than half of it.</li>
 * </ul>
 * Not thread safe; one run at a time. Leaves no thread behind; deletes its output directory (the input set is kept
 * for the next run).
 */
public final class EtlBench {

    /** The target for the ETL with both cores busy, in MB/s (MB = 10^6 bytes). */
    public static final double TARGET_MB_PER_SECOND = 1000;

    /**
     * The sizes of one run.
     *
     * @param bytes  the size of the file set
     * @param files  the number of files
     * @param rounds the measured rounds (the best is reported)
     */
    public record Settings(long bytes, int files, int rounds) {
        /** The figures: 1 GB in 8 files, best of 3. */
        public static Settings full() {
            return new Settings(1L << 30, 8, 3);
        }

        /** {@code --quick}: 256 MB in 4 files, best of 2 (rough: the JIT and the fixed costs weigh more). */
        public static Settings quick() {
            return new Settings(256L << 20, 4, 2);
        }
    }

    /**
     * One variant's runs: the seconds of each round, the bytes and records of one run, the load before each round and
     * the process CPU seconds of each round (every thread of this JVM: the workers, the committer, GC and JIT).
     */
    record Variant(String name, int threads, List<Double> seconds, long bytes, long records, List<Double> loads,
                   List<Double> cpuSeconds) {
        double best() { return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN); }

        double worst() { return seconds.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN); }

        double mbPerSecond(double secs) { return bytes / 1e6 / secs; }

        double loadAtBest() { return loads.get(seconds.indexOf(best())); }

        /** The least process CPU seconds per GB (10^9 bytes) over the rounds: the work, whatever the load. */
        double cpuPerGb() {
            return cpuSeconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN) / (bytes / 1e9);
        }
    }

    private EtlBench() {
    }

    /** Runs the suite ({@code quick}: smaller) and prints the table under the machine line. */
    public static void runAndPrint(boolean quick, String machine, PrintStream out) throws InterruptedException {
        try {
            Settings s = quick ? Settings.quick() : Settings.full();
            print(run(s, out), s, machine, out);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the etl suite failed: " + e, e);
        }
    }

    /** Runs the suite ({@code --quick}: smaller) and prints the table. */
    public static void main(String[] args) throws Exception {
        runAndPrint(List.of(args).contains("--quick"), dev.conclab.bench.BenchMain.machine(), System.out);
    }

    /** Measures every variant of {@code s}; progress lines go to {@code progress}. */
    static Map<String, Variant> run(Settings s, PrintStream progress) throws Exception {
        Path input = inputSet(s, progress);
        List<ByteRange> ranges = new RangeSplitter(EtlJob.Config.DEFAULT_RANGE_BYTES)
                .split(EtlJob.inputFiles(input, RecordFormat.CSV));
        Path work = Files.createTempDirectory("bench-etl-");
        try {
            Map<String, Variant> variants = new LinkedHashMap<>();
            Runner[] runners = {
                    new Runner("newline count", 1, () -> newlines(ranges, 1)),
                    new Runner("newline count", 2, () -> newlines(ranges, 2)),
                    new Runner("ETL", 1, () -> etl(input, work, 1, false)),
                    new Runner("ETL", 2, () -> etl(input, work, 2, false)),
                    new Runner("ETL + checkpoint", 2, () -> etl(input, work, 2, true)),
            };
            for (Runner r : runners) r.body.run(); // warm-up: page cache and JIT
            for (int round = 1; round <= s.rounds(); round++) {
                for (Runner r : runners) {
                    double load = load();
                    long cpu0 = processCpuNanos();
                    long t0 = System.nanoTime();
                    long[] counted = r.body.run();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    double cpu = (processCpuNanos() - cpu0) / 1e9;
                    Variant v = variants.computeIfAbsent(r.key(), k -> new Variant(r.name, r.threads,
                            new ArrayList<>(), counted[0], counted[1], new ArrayList<>(), new ArrayList<>()));
                    v.seconds().add(secs);
                    v.loads().add(load);
                    v.cpuSeconds().add(cpu);
                    progress.printf(Locale.ROOT, "  round %d: %-16s %d thread(s) %6.3f s = %,6.0f MB/s (load %.2f)%n",
                            round, r.name, r.threads, secs, v.mbPerSecond(secs), load);
                }
            }
            return variants;
        } finally {
            deleteTree(work);
        }
    }

    /** A variant to time: returns {bytes, records}. */
    private record Runner(String name, int threads, Body body) {
        String key() { return name + "/" + threads; }
    }

    @FunctionalInterface
    private interface Body {
        long[] run() throws Exception;
    }

    private static long[] newlines(List<ByteRange> ranges, int threads) throws Exception {
        NewlineCount.Result r = NewlineCount.count(ranges, threads);
        return new long[] {r.bytes(), r.newlines()};
    }

    private static long[] etl(Path input, Path work, int threads, boolean checkpoint) throws Exception {
        Path out = work.resolve("out-" + threads + ".csv");
        Path ckpt = work.resolve("etl.ckpt");
        for (String suffix : new String[] {"", "-wal", "-shm"}) Files.deleteIfExists(Path.of(ckpt + suffix));
        EtlJob.Result r = new EtlJob(new EtlJob.Config(input, RecordFormat.CSV, out.toString(), threads,
                checkpoint ? ckpt : null, null, EtlJob.Config.DEFAULT_RANGE_BYTES), p -> { }).run();
        return new long[] {r.bytesThisRun(), r.counters().lines()};
    }

    /** The generated file set for {@code s}, generated now unless a previous run left it complete. */
    static Path inputSet(Settings s, PrintStream progress) throws IOException, InterruptedException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "conclab-bench-etl", Sizes.format(s.bytes())
                .replace(' ', '_') + "-" + s.files());
        Path marker = dir.resolve("complete.txt");
        if (!Files.exists(marker)) {
            progress.printf("  generating %s in %d files into %s%n", Sizes.format(s.bytes()), s.files(), dir);
            OrderGenerator.Result r = new OrderGenerator().generate(new OrderGenerator.Spec(dir, s.bytes(), s.files(),
                    RecordFormat.CSV, false, 0.001, 1));
            Files.writeString(marker, r.records() + " records, " + r.bytes() + " bytes\n");
        }
        return dir;
    }

    /** Prints the best round of each variant, ratios to the newline count with the same threads, the target. */
    static void print(Map<String, Variant> variants, Settings s, String machine, PrintStream out) {
        Variant any = variants.values().iterator().next();
        out.println();
        out.printf(Locale.ROOT, "ETL over %s of CSV in %d files in the page cache (%,d lines; records/s counts every"
                + " line), best of %d rounds, the issue asks for >= %.0f MB/s with 2 threads%n", Sizes.format(any.bytes()), s.files(),
                any.records(), s.rounds(), TARGET_MB_PER_SECOND);
        out.println("machine: " + machine + " · load average now "
                + dev.conclab.bench.ratelimit.SlowestCall.loadAverage());
        out.printf("%-17s %7s %9s %10s %16s %12s %10s %9s %6s%n", "variant", "threads", "best s", "MB/s",
                "MB/s worst-best", "records/s", "vs ceiling", "CPU s/GB", "load");
        for (Variant v : variants.values()) {
            Variant ceiling = variants.get("newline count/" + v.threads());
            double mbs = v.mbPerSecond(v.best());
            out.printf(Locale.ROOT, "%-17s %7d %9.3f %,10.0f %,7.0f-%,-8.0f %,12.0f %9.0f%% %9.2f %6.2f%n", v.name(),
                    v.threads(), v.best(), mbs, v.mbPerSecond(v.worst()), mbs, v.records() / v.best(),
                    100 * mbs / ceiling.mbPerSecond(ceiling.best()), v.cpuPerGb(), v.loadAtBest());
        }
        Variant two = variants.get("ETL/2");
        double best = two.mbPerSecond(two.best());
        out.printf(Locale.ROOT, "target: ETL with 2 threads >= %.0f MB/s: %s (%.0f MB/s, %.0f%% of the target)%n",
                TARGET_MB_PER_SECOND, best >= TARGET_MB_PER_SECOND ? "MET" : "NOT MET", best,
                100 * best / TARGET_MB_PER_SECOND);
    }

    /** The CPU time of every thread of this JVM so far. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
