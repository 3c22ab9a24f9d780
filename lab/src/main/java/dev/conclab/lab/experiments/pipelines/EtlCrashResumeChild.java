package dev.conclab.lab.experiments.pipelines;

import dev.conclab.etl.EtlJob;
import dev.conclab.etl.parse.RecordFormat;

import dev.conclab.toolkit.process.ParentWatch;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link EtlCrashResume}, killed with SIGKILL by its parent. It runs the ETL and, after
 * {@code holdAfter} ranges are durable, holds still (the committing thread parks for good) so the parent's kill
 * lands at a known point: {@code holdAfter} ranges done, the rest not. Prints {@code committed N} or
 * {@code loaded N} after each range and {@code holding} when it stops.
 *
 * <p>Args: {@code checkpoint|naive input output checkpointFile rangeBytes holdAfter}; in {@code naive} mode (the
 * Broken loader, {@link EtlNaiveAppendLoad}) the checkpoint file is ignored.
 */
public final class EtlCrashResumeChild {
    private EtlCrashResumeChild() {}

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        if (args.length != 6) {
            throw new IllegalArgumentException(
                    "usage: checkpoint|naive input output checkpointFile rangeBytes holdAfter");
        }
        Path input = Path.of(args[1]);
        long rangeBytes = Long.parseLong(args[4]);
        int holdAfter = Integer.parseInt(args[5]);
        switch (args[0]) {
            case "checkpoint" -> {
                EtlJob.Config config = new EtlJob.Config(input, RecordFormat.CSV, args[2], 2, Path.of(args[3]), null,
                        rangeBytes);
                int[] n = {0};
                new EtlJob(config, p -> report("committed", ++n[0], holdAfter)).run();
            }
            case "naive" -> EtlNaiveAppendLoad.run(input, Path.of(args[2]), rangeBytes,
                    n -> report("loaded", n, holdAfter));
            default -> throw new IllegalArgumentException("unknown mode " + args[0] + " (checkpoint or naive)");
        }
        System.out.println("done");
        System.out.flush();
    }

    private static void report(String what, int n, int holdAfter) {
        System.out.println(what + " " + n);
        if (n == holdAfter) {
            System.out.println("holding");
            System.out.flush();
            try {
                new CountDownLatch(1).await(); // until SIGKILL
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        System.out.flush();
    }
}
