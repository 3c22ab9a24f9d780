package dev.conclab.bench.pool;

import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * How long a worker JVM takes from launch to ready (its READY frame), with the pool's default options and with
 * the JVM options a worker could run with instead. Measured in the calling JVM, not by JMH: each round builds a
 * pool of one worker, waits for one task to come back, reads {@link ProcessPool#startupTimes()} and closes the
 * pool. Not thread-safe; run from one thread.
 *
 * <p><b>Measured</b> (7 rounds each, medians, 2 vCPUs, JDK 25.0.3, the machine otherwise idle): the pool's default
 * 88 ms; the JVM's defaults 85 ms; without class-data sharing 123 ms (1.40×); C1 only 57 ms (0.65×, but long tasks
 * then run without C2's code); an AppCDS archive of the worker's classes 53 ms (0.60×). The pool keeps the JDK's
 * default CDS archive and serial GC: an AppCDS archive needs a file that every worker of every pool shares and
 * that the JDK rewrites when it goes stale, which a caller can opt into with {@code jvmOptions}.
 */
public final class WorkerStartup {

    /** The option sets compared; the first is the pool's default and the baseline of the report. */
    public static final Map<String, List<String>> OPTION_SETS = optionSets();

    private static final TaskRef INCREMENT = TaskRef.of(PoolTasks.class, "increment");

    private WorkerStartup() {
    }

    private static Map<String, List<String>> optionSets() {
        Map<String, List<String>> sets = new LinkedHashMap<>();
        sets.put("pool default", ProcessPool.DEFAULT_WORKER_OPTIONS);
        sets.put("JVM defaults (G1, CDS)", List.of());
        sets.put("no class-data sharing", List.of("-Xshare:off", "-XX:+UseSerialGC"));
        sets.put("default + C1 only", List.of("-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        // An application class-data archive (JDK 19+): the first worker writes it when it exits, the next ones map
        // the worker's own classes from it too. The median leaves out that first, slower round.
        Path archive = Path.of(System.getProperty("java.io.tmpdir"),
                "conclab-bench-worker-" + ProcessHandle.current().pid() + ".jsa");
        archive.toFile().deleteOnExit();
        sets.put("AppCDS archive", List.of("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + archive,
                "-XX:+UseSerialGC"));
        return sets;
    }

    /** Start-up times of {@code rounds} workers started one after another with {@code options}. */
    public static List<Duration> measure(List<String> options, int rounds)
            throws InterruptedException, ExecutionException {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be ≥ 1: " + rounds);
        }
        List<Duration> times = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            try (ProcessPool pool = ProcessPool.builder().workers(1).jvmOptions(options.toArray(String[]::new))
                    .build()) {
                pool.apply(INCREMENT, 1L);
                times.addAll(pool.startupTimes());
            }
        }
        return times;
    }

    /** The median of {@code times}, which must not be empty. */
    public static Duration median(List<Duration> times) {
        if (times.isEmpty()) {
            throw new IllegalArgumentException("no times");
        }
        List<Duration> sorted = times.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
