package dev.conclab.etl;

import dev.conclab.etl.parse.RecordFormat;

import dev.conclab.toolkit.process.ParentWatch;

import java.nio.file.Path;

/**
 * The child JVM of {@link EtlCrashResumeTest}: runs one ETL job with a checkpoint and prints {@code committed N}
 * after each committed range, so the parent can kill it at a chosen point.
 * Args: input output checkpoint threads rangeBytes.
 */
public final class EtlCrashChild {
    private EtlCrashChild() {}

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        EtlJob.Config config = new EtlJob.Config(Path.of(args[0]), RecordFormat.CSV, args[1], Integer.parseInt(args[3]),
                Path.of(args[2]), null, Long.parseLong(args[4]));
        int[] n = {0};
        new EtlJob(config, p -> {
            System.out.println("committed " + ++n[0]);
            System.out.flush();
        }).run();
        System.out.println("done");
        System.out.flush();
    }
}
