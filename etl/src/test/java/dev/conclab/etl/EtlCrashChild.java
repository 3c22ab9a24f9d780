package dev.conclab.etl;

import dev.conclab.etl.parse.RecordFormat;

import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child JVM of {@link EtlCrashResumeTest}: runs one ETL job with a checkpoint, prints {@code committed N} after
 * each committed range, and then waits for a line on its standard input before it commits another: the parent
 * grants commits one line at a time, so however fast this JVM runs it never gets further than the parent allows
 * before the kill (the scanning workers keep going meanwhile, up to the pipeline's capacity).
 * Args: input output checkpoint threads rangeBytes.
 */
public final class EtlCrashChild {
    private EtlCrashChild() {}

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        EtlJob.Config config = new EtlJob.Config(Path.of(args[0]), RecordFormat.CSV, args[1], Integer.parseInt(args[3]),
                Path.of(args[2]), null, Long.parseLong(args[4]));
        int[] n = {0};
        BufferedReader permits = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        new EtlJob(config, p -> {
            System.out.println("committed " + ++n[0]);
            System.out.flush();
            try {
                permits.readLine(); // the parent's go-ahead for the next commit (or end of input: go on)
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).run();
        System.out.println("done");
        System.out.flush();
    }
}
