package dev.conclab.toolkit.diagnostics.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Examines a running JVM of the same user from outside: takes {@code samples} thread dumps {@code interval} apart
 * with {@code jcmd PID Thread.print -l} (the {@code jcmd} of the JDK this JVM runs on, which attaches through the
 * JDK's attach mechanism), runs {@link DumpAnalysis} over them, lists the target's live child processes, and
 * returns a {@link Diagnosis}.
 *
 * <h2>Blocking and thread safety</h2>
 * Instances are immutable and thread-safe; {@link #diagnose} blocks its caller for about
 * {@code (samples - 1) × interval} plus the time of each {@code jcmd} run (a few hundred milliseconds: it starts a
 * small JVM). It responds to interruption between dumps by throwing {@link InterruptedException}; a
 * {@code jcmd} already running is waited for (at most 20 s) and then destroyed. Each dump brings the target to a safepoint (a pause of its Java threads, usually
 * well under a millisecond for hundreds of threads).
 *
 * @param samples          dumps per diagnosis, at least 1 (stalls need 2)
 * @param interval         time between dumps
 * @param contentionLimit  waiters on one lock from which it is a hot spot (at least 2)
 * @param threadLimit      platform threads above which the target overuses threads
 * @param cores            the target machine's cores, for the overuse reason
 */
public record Doctor(int samples, Duration interval, int contentionLimit, int threadLimit, int cores) {
    private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(20);

    public Doctor {
        if (samples < 1 || samples > 100) {
            throw new IllegalArgumentException("samples must be in 1..100: " + samples);
        }
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("interval must be in 0..60 s: " + interval);
        }
        if (contentionLimit < 2 || threadLimit < 1 || cores < 1) {
            throw new IllegalArgumentException("contentionLimit >= 2, threadLimit >= 1 and cores >= 1 needed");
        }
    }

    /**
     * Three samples 250 ms apart; a hot spot from 4 waiters; overuse above {@code max(256, 64 × cores)} threads
     * (a Tomcat-sized pool of 200 plus the JVM's own threads is not flagged, 2,000 threads on 8 cores are).
     */
    public static Doctor defaults() {
        int cores = Runtime.getRuntime().availableProcessors();
        return new Doctor(3, Duration.ofMillis(250), 4, Math.max(256, 64 * cores), cores);
    }

    /** The same settings with another sample count and interval. */
    public Doctor sampling(int samples, Duration interval) {
        return new Doctor(samples, interval, contentionLimit, threadLimit, cores);
    }

    /**
     * Samples {@code pid} and diagnoses it.
     *
     * @throws DoctorException if the process does not exist, belongs to another user, is not an attachable JVM,
     *                         or its dump cannot be read
     */
    public Diagnosis diagnose(long pid) throws DoctorException, InterruptedException {
        ProcessHandle target = checkTarget(pid);
        long start = System.nanoTime();
        List<ThreadDump> dumps = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            if (i > 0) {
                Thread.sleep(interval);
            }
            dumps.add(ThreadDumpParser.parse(threadPrint(pid), Instant.now(Clock.systemUTC())));
        }
        List<Finding> findings = new ArrayList<>();
        findings.addAll(DumpAnalysis.deadlocks(dumps));
        findings.addAll(DumpAnalysis.stalls(dumps));
        findings.addAll(DumpAnalysis.hotSpots(dumps, contentionLimit));
        findings.addAll(DumpAnalysis.overuse(dumps, cores, threadLimit));
        children(target).ifPresent(findings::add);
        return new Diagnosis(pid, samples, dumps.getLast().threads().size(),
                Duration.ofNanos(System.nanoTime() - start), findings);
    }

    /** The target's live children, or empty if it has none. */
    static Optional<Finding.ChildProcesses> children(ProcessHandle target) {
        List<ProcessHandle> kids = target.children().filter(ProcessHandle::isAlive).toList();
        if (kids.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Finding.ChildProcesses(kids.stream().map(ProcessHandle::pid).toList(),
                kids.stream().map(p -> p.info().command().orElse("?")).toList()));
    }

    private static ProcessHandle checkTarget(long pid) throws DoctorException {
        if (pid <= 0) {
            throw new DoctorException("not a process id: " + pid);
        }
        ProcessHandle target = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .orElseThrow(() -> new DoctorException("no process with pid " + pid));
        String me = ProcessHandle.current().info().user().orElse("");
        Optional<String> owner = target.info().user();
        if (owner.isPresent() && !owner.get().equals(me)) {
            throw new DoctorException("process " + pid + " belongs to user " + owner.get()
                    + ", not " + me + ": the JDK attaches only to JVMs of the same user");
        }
        if (owner.isEmpty() && !me.isEmpty()) {
            // The OS hides the details of other users' processes.
            throw new DoctorException("process " + pid + " belongs to another user: cannot attach");
        }
        return target;
    }

    private static String threadPrint(long pid) throws DoctorException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            throw new DoctorException("no jcmd in " + jcmd.getParent() + ": run the doctor on a full JDK");
        }
        Process p;
        try {
            p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print", "-l")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new DoctorException("cannot start " + jcmd + ": " + e.getMessage());
        }
        try {
            // Read before waiting: a dump of thousands of threads is larger than a pipe's buffer.
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(JCMD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new DoctorException("jcmd did not answer within " + JCMD_TIMEOUT.toSeconds() + " s");
            }
            if (p.exitValue() != 0 || !out.contains("java.lang.Thread.State")) {
                String firstLine = out.lines().filter(l -> !l.isBlank() && !l.startsWith(pid + ":"))
                        .findFirst().orElse("no output").strip();
                throw new DoctorException("process " + pid + " is not a JVM that accepts attachment (" + firstLine
                        + ")");
            }
            return out;
        } catch (IOException e) {
            throw new DoctorException("reading jcmd's output failed: " + e.getMessage());
        } finally {
            p.destroyForcibly();
        }
    }
}
