package dev.conclab.lab.cli;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.load.AggregateSink;

import dev.conclab.etl.input.ByteRange;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.input.Sizes;
import dev.conclab.etl.parse.RecordFormat;
import dev.conclab.etl.scan.NewlineCount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code conclab etl ...}: generate order files, and run the ETL job over a directory of them (resumable with
 * {@code --checkpoint}). Bad input (a missing directory, a bad size, an unknown format) is one line and exit
 * status 2.
 */
@Command(name = "etl", mixinStandardHelpOptions = true,
        subcommands = {EtlCommand.GenerateCommand.class, EtlCommand.RunEtlCommand.class},
        description = {"The file ETL system: parse CSV / JSON lines (gzip or not) in parallel byte ranges, validate,"
                + " aggregate per country and day, load into SQLite or a CSV / JSON-lines file; resumes after a crash.",
                "  ./conclab etl generate --out /tmp/orders --size 1GB --files 8",
                "  ./conclab etl run --input /tmp/orders --output sqlite:/tmp/orders.db --checkpoint /tmp/etl.ckpt"})
final class EtlCommand implements Runnable {

    @Override
    public void run() {
        throw new UsageError("etl needs a subcommand: generate or run (see: conclab etl --help)");
    }

    static RecordFormat format(String command, String name) {
        try {
            return RecordFormat.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UsageError("etl " + command + ": " + e.getMessage());
        }
    }

    /** {@code etl generate}. */
    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Write deterministic order files (id, timestamp, customer, country, amount, currency, status)"
                    + " with a known rate of malformed records.")
    static final class GenerateCommand implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The output directory.")
        Path out;

        @Option(names = "--size", defaultValue = "1GB", paramLabel = "SIZE",
                description = "Total size, e.g. 1GB, 256MB (default 1GB; uncompressed bytes).")
        String size;

        @Option(names = "--files", defaultValue = "8", paramLabel = "N", description = "Number of files (default 8).")
        int files;

        @Option(names = "--format", defaultValue = "csv", paramLabel = "FMT", description = "csv or jsonl (default csv).")
        String format;

        @Option(names = "--gzip", description = "Gzip each file.")
        boolean gzip;

        @Option(names = "--bad-rate", defaultValue = "0.001", paramLabel = "P",
                description = "Fraction of malformed records (default 0.001).")
        double badRate;

        @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Random seed (default 1).")
        long seed;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException, InterruptedException {
            OrderGenerator.Spec s;
            try {
                s = new OrderGenerator.Spec(out, Sizes.parse(size), files, format("generate", format), gzip, badRate, seed);
            } catch (IllegalArgumentException e) {
                throw new UsageError("etl generate: " + e.getMessage());
            }
            long t0 = System.nanoTime();
            OrderGenerator.Result r = new OrderGenerator().generate(s);
            double secs = (System.nanoTime() - t0) / 1e9;
            PrintWriter w = spec.commandLine().getOut();
            w.printf(Locale.ROOT, "etl generate: %d files, %s, %,d records (%,d malformed) in %s in %.1f s%n",
                    r.files().size(), Sizes.format(r.bytes()), r.records(), r.badRecords(), out, secs);
            w.flush();
            return Main.OK;
        }
    }

    /** {@code etl run}. */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run (or, with the same --checkpoint, resume) the ETL job over a directory.")
    static final class RunEtlCommand implements Callable<Integer> {
        @Option(names = "--input", required = true, paramLabel = "DIR", description = "The input directory.")
        Path input;

        @Option(names = "--output", required = true, paramLabel = "FILE|sqlite:DB",
                description = "sqlite:DB, or a file (.jsonl for JSON lines, else CSV).")
        String output;

        @Option(names = "--format", defaultValue = "csv", paramLabel = "FMT", description = "csv or jsonl (default csv).")
        String format;

        @Option(names = "--threads", paramLabel = "N", description = "Scan workers (default: the number of cores).")
        Integer threads;

        @Option(names = "--checkpoint", paramLabel = "FILE",
                description = "Checkpoint file: a killed run restarted with it resumes and ends with the same output.")
        Path checkpoint;

        @Option(names = "--rejects", paramLabel = "FILE", description = "Reject file (default: OUTPUT.rejects.csv).")
        Path rejects;

        @Option(names = "--range-size", defaultValue = "16MB", paramLabel = "SIZE",
                description = "Byte range per work item (default 16MB).")
        String rangeSize;

        @Option(names = "--ceiling", description = "Also count the newlines of the same files (the throughput ceiling).")
        boolean ceiling;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException, SQLException, InterruptedException {
            EtlJob.Config config;
            try {
                int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
                config = new EtlJob.Config(input, format("run", format), output, n, checkpoint, rejects,
                        Sizes.parse(rangeSize));
                dev.conclab.etl.load.AggregateSink.forTarget(output);
                EtlJob.inputFiles(input, config.format());
            } catch (IllegalArgumentException e) {
                throw new UsageError("etl run: " + e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            long[] lastShown = {0};
            EtlJob.Result result;
            try {
                result = new EtlJob(config, p -> {
                    long now = System.nanoTime();
                    if (now - lastShown[0] < 250_000_000L && p.bytesDone() < p.bytesTotal()) return;
                    lastShown[0] = now;
                    err.printf(Locale.ROOT, "\retl: %5.1f%%  %s of %s  %.0f MB/s  %.2fM records/s   ",
                            100.0 * p.bytesDone() / Math.max(1, p.bytesTotal()), Sizes.format(p.bytesDone()),
                            Sizes.format(p.bytesTotal()), p.mbPerSecond(), p.recordsPerSecond() / 1e6);
                    err.flush();
                }).run();
            } catch (IllegalStateException e) {
                throw new UsageError("etl run: " + e.getMessage());
            } catch (EtlJob.EtlException e) {
                err.println();
                err.println("etl run: " + e.getMessage());
                err.flush();
                return Main.CLAIM_FAILED;
            }
            err.println();
            var c = result.counters();
            out.printf(Locale.ROOT, "etl run: %d ranges (%d resumed), %,d lines, %,d records loaded, %,d filtered,"
                            + " %,d rejected; %d groups -> %s%n",
                    result.resumedRanges() + result.scannedRanges(), result.resumedRanges(), c.lines(), c.records(),
                    c.filtered(), c.rejects(), result.groups(), output);
            out.printf(Locale.ROOT, "etl run: this run %s in %.2f s = %.0f MB/s with %d threads%n",
                    Sizes.format(result.bytesThisRun()), result.elapsedNanos() / 1e9, result.mbPerSecond(), config.threads());
            if (ceiling) {
                List<ByteRange> ranges = new RangeSplitter(config.rangeBytes())
                        .split(EtlJob.inputFiles(input, config.format()));
                NewlineCount.Result nl = NewlineCount.count(ranges, config.threads());
                out.printf(Locale.ROOT, "etl run: ceiling: newline count of the same files %.2f s = %.0f MB/s (%,d newlines);"
                        + " ETL at %.0f%% of it%n", nl.nanos() / 1e9, nl.mbPerSecond(), nl.newlines(),
                        100 * result.mbPerSecond() / Math.max(1e-9, nl.mbPerSecond()));
            }
            out.flush();
            return Main.OK;
        }
    }
}
