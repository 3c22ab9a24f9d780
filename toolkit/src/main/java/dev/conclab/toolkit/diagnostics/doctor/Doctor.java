package dev.conclab.toolkit.diagnostics.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Examines a running JVM of the same user from outside: takes {@code samples} thread dumps {@code interval} apart
 * with {@code jcmd PID Thread.print -l} (the {@code jcmd} of the JDK this JVM runs on, which attaches through the
 * JDK's attach mechanism), runs {@link DumpAnalysis} over them, lists the target's live child processes, and
 * returns a {@link Diagnosis}. When a virtual thread is pinned it also takes one JSON dump
 * ({@code jcmd PID Thread.dump_to_file -format=json}) to name it.
 *
 * <h2>Blocking and thread safety</h2>
 * Instances are immutable and thread-safe; {@link #diagnose} blocks its caller for about
 * {@code (samples - 1) × interval} plus the time of each {@code jcmd} run (a few hundred milliseconds: it starts a
 * small JVM). It responds to interruption between dumps by throwing {@link InterruptedException}; a
 * {@code jcmd} already running is waited for (at most 20 s) and then destroyed. Each dump brings the target to a
 * safepoint (a pause of its Java threads, usually well under a millisecond for hundreds of threads).
 *
 * <h2>Why pinning is read from the text dump</h2>
 * The least invasive source that shows it: the text dump the doctor takes anyway prints, under each carrier, the
 * virtual thread mounted on it with its whole stack, native and foreign-call frames included, so a virtual thread
 * parked while mounted ({@code VirtualThread.parkOnCarrierThread}) is visible with the frame that pins it. The
 * JSON dump names the carrier too but leaves the native frames out of the stack, and JFR's
 * {@code jdk.VirtualThreadPinned} events would mean starting a recording in the target and waiting for a pin to
 * end (a pin that never ends emits no event).
 *
 * @param samples          dumps per diagnosis, at least 1 (stalls need 2)
 * @param interval         time between dumps
 * @param contentionLimit  waiters on one lock from which it is a hot spot (at least 2)
 * @param threadLimit      platform threads above which the target overuses threads
 * @param cores            the target machine's cores, for the overuse reason
 */
public record Doctor(int samples, Duration interval, int contentionLimit, int threadLimit, int cores) {
    private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(20);
    /** A virtual thread's id and name in JDK 25's JSON dump: {@code "tid": "22", "time": ..., "virtual": true,
     * "name": ...}. */
    private static final Pattern JSON_VIRTUAL_THREAD = Pattern.compile(
            "\"tid\": \"(\\d+)\",\\s*\"time\": \"[^\"]*\",\\s*\"virtual\": true,\\s*"
                    + "\"name\": \"((?:[^\"\\\\]|\\\\.)*)\"");

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
        findings.addAll(named(DumpAnalysis.pinned(dumps), pid));
        findings.addAll(DumpAnalysis.overuse(dumps, cores, threadLimit));
        children(target).ifPresent(findings::add);
        return new Diagnosis(pid, samples, dumps.getLast().threads().size(),
                Duration.ofNanos(System.nanoTime() - start), findings);
    }

    /**
     * The pinned virtual threads with their names added. The text dump names a mounted virtual thread only by its
     * id, so one JSON dump ({@code Thread.dump_to_file -format=json}, which lists every virtual thread with its
     * name) is taken, and only when something is pinned: a healthy target pays nothing for it. Without the JSON
     * dump (an older JDK), the ids stand alone.
     */
    private static List<Finding> named(List<Finding.PinnedVirtualThread> pinned, long pid)
            throws InterruptedException {
        if (pinned.isEmpty()) {
            return List.of();
        }
        Map<String, String> names = virtualThreadNames(pid);
        List<Finding> out = new ArrayList<>();
        for (Finding.PinnedVirtualThread p : pinned) {
            String name = names.get(p.virtualThread().substring(1));
            out.add(name == null || name.isEmpty() ? p : new Finding.PinnedVirtualThread(
                    "\"" + name + "\" " + p.virtualThread(), p.carrier(), p.blocksAt(), p.pinnedBy(),
                    p.nativeCallSite(), p.frames()));
        }
        return out;
    }

    /** Thread id to name for the virtual threads of {@code pid}, from a JSON dump; empty if it cannot be taken. */
    private static Map<String, String> virtualThreadNames(long pid) throws InterruptedException {
        Path file = null;
        try {
            file = Files.createTempFile("conclab-doctor-", ".json");
            Files.delete(file); // jcmd refuses to overwrite an existing file
            jcmd(pid, "Thread.dump_to_file", "-format=json", file.toString());
            Map<String, String> names = new HashMap<>();
            Matcher m = JSON_VIRTUAL_THREAD.matcher(Files.readString(file));
            while (m.find()) {
                names.put(m.group(1), m.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
            }
            return names;
        } catch (IOException | DoctorException e) {
            return Map.of();
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }
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
        String out = jcmd(pid, "Thread.print", "-l");
        if (!out.contains("java.lang.Thread.State")) {
            throw new DoctorException(notAJvm(pid, "its thread dump is empty"));
        }
        return out;
    }

    /** Runs {@code jcmd PID command...} and returns its output; a failed attach is one line naming the reason. */
    private static String jcmd(long pid, String... command) throws DoctorException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            throw new DoctorException("no jcmd in " + jcmd.getParent() + ": run the doctor on a full JDK");
        }
        List<String> args = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        args.addAll(List.of(command));
        Process p;
        try {
            p = new ProcessBuilder(args).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new DoctorException("cannot start " + jcmd + ": " + e.getMessage());
        }
        try {
            // Read before waiting: a dump of thousands of threads is larger than a pipe's buffer.
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(JCMD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new DoctorException("jcmd did not answer within " + JCMD_TIMEOUT.toSeconds() + " s");
            }
            if (p.exitValue() != 0) {
                Optional<Path> stale = ProcessHandle.of(pid).flatMap(AttachSocket::stale);
                if (stale.isPresent()) {
                    throw new DoctorException("cannot attach to process " + pid + commandOf(pid) + ": "
                            + stale.get() + " is a stale attach socket, older than the process (an earlier process"
                            + " with this pid was killed); delete it and try again");
                }
                throw new DoctorException(notAJvm(pid, attachFailure(out)));
            }
            return out;
        } catch (IOException e) {
            throw new DoctorException("reading jcmd's output failed: " + e.getMessage());
        } finally {
            p.destroyForcibly();
        }
    }

    private static String notAJvm(long pid, String reason) {
        return "process " + pid + commandOf(pid) + " is not a JVM that accepts attachment: " + reason;
    }

    /** " (name)" of the process's executable, or "" when the OS does not say. */
    private static String commandOf(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().command())
                .map(c -> " (" + Path.of(c).getFileName() + ")").orElse("");
    }

    /** jcmd's failure in a few words instead of its stack trace. */
    static String attachFailure(String jcmdOutput) {
        if (jcmdOutput.contains("AttachNotSupportedException")) {
            return "it does not answer the JDK's attach handshake";
        }
        if (jcmdOutput.contains("non existent JVM pid")) {
            return "it exited or is not a Java process";
        }
        // Another failure: the message of jcmd's first exception line, without the exception's class name.
        String first = jcmdOutput.lines().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.matches("\\d+:") && !l.startsWith("at "))
                .findFirst().orElse("jcmd failed without a message");
        first = first.replaceFirst("^[\\w.$]+(Exception|Error): ", "");
        return first.length() > 120 ? first.substring(0, 117) + "..." : first;
    }
}
