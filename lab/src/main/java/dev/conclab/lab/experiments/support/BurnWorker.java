package dev.conclab.lab.experiments.support;

import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A worker JVM for process-based parallelism: {@code main(rounds)} burns {@link CpuWork#burn} rounds and prints
 * how long the burning took, in nanoseconds, on one line. {@link #runAll} starts one such process per slice of
 * work and waits for all, which is the JVM's nearest counterpart to a {@code multiprocessing.Pool.map} that
 * pays for its pool's start-up.
 */
public final class BurnWorker {

    private BurnWorker() {
    }

    public static void main(String[] args) {
        ParentWatch.exitWithParent();
        long rounds = Long.parseLong(args[0]);
        long start = System.nanoTime();
        CpuWork.consume(rounds);
        System.out.println(System.nanoTime() - start);
    }

    /** What one process reported. */
    public record Report(long burnNanos) {
    }

    /**
     * Starts {@code processes} worker JVMs, each burning {@code roundsEach}, and waits for all of them.
     *
     * @param track registers each process with the caller (so a cancelled run destroys it)
     */
    public static List<Report> runAll(int processes, long roundsEach, java.util.function.UnaryOperator<Process> track)
            throws IOException, InterruptedException {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx64m");
        List<Process> started = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            started.add(track.apply(launcher.start(BurnWorker.class, Long.toString(roundsEach))));
        }
        List<Report> reports = new ArrayList<>();
        for (Process p : started) {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                String line = out.readLine();
                if (p.waitFor() != 0 || line == null) {
                    throw new IOException("worker JVM " + p.pid() + " failed with exit status " + p.exitValue());
                }
                reports.add(new Report(Long.parseLong(line.strip())));
            }
        }
        return reports;
    }
}
