package dev.conclab.lab.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.toolkit.diagnostics.doctor.Diagnosis;
import dev.conclab.toolkit.diagnostics.doctor.Doctor;
import dev.conclab.toolkit.diagnostics.doctor.DoctorException;
import dev.conclab.toolkit.diagnostics.doctor.Finding;
import dev.conclab.toolkit.diagnostics.doctor.SickJvmProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code conclab doctor PID}: diagnoses a running JVM of the same user from its thread dumps (deadlocks, stalls,
 * contention, pinned virtual threads, thread overuse, child processes); {@code --watch} repeats until the target
 * exits; {@code --self-test} runs it against JVMs made sick on purpose, each stopped after its case. Bad input (no
 * such process, not a JVM, another user's) is one line and exit status 2.
 */
@Command(name = "doctor", description = "Diagnose a running JVM: deadlocks, stalls, contention, pinned virtual"
        + " threads, thread overuse, child processes.")
final class DoctorCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Generous: 2,000 threads start in about a second, far slower while other builds share the cores. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PID", description = "process id of a JVM of the same user")
    Long pid;

    @Option(names = "--samples", defaultValue = "3", description = "thread dumps per diagnosis (1..100)")
    int samples;

    @Option(names = "--interval", defaultValue = "250", description = "milliseconds between dumps (0..60000)")
    int intervalMillis;

    @Option(names = "--watch", description = "diagnose again and again until the target exits or this is interrupted")
    boolean watch;

    @Option(names = "--json", description = "print the diagnosis as JSON")
    boolean json;

    @Option(names = "--self-test", description = "start sick JVMs and check the doctor finds each problem")
    boolean selfTest;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (samples < 1 || samples > 100) {
            throw new UsageError("--samples must be in 1..100, not " + samples);
        }
        if (intervalMillis < 0 || intervalMillis > 60_000) {
            throw new UsageError("--interval must be in 0..60000 ms, not " + intervalMillis);
        }
        Doctor doctor = Doctor.defaults().sampling(samples, Duration.ofMillis(intervalMillis));
        if (selfTest) {
            return selfTest(doctor, out);
        }
        if (pid == null) {
            throw new UsageError("give the PID of a JVM to diagnose, or --self-test");
        }
        int rounds = 0;
        do {
            try {
                Diagnosis d = doctor.diagnose(pid);
                out.println(json ? json(d) : text(d));
                out.flush();
                rounds++;
            } catch (DoctorException e) {
                // A watched target that exits between or during rounds ends the watch; it is not an error.
                if (watch && rounds > 0 && ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) {
                    break;
                }
                throw new UsageError(e.getMessage());
            }
        } while (watch && !Thread.currentThread().isInterrupted() && alive(pid));
        if (watch) {
            out.println(json ? "{\"pid\":" + pid + ",\"exited\":true,\"rounds\":" + rounds + "}"
                    : "pid " + pid + " exited after " + rounds + " round(s); watch ended");
            out.flush();
        }
        return Main.OK;
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static String text(Diagnosis d) {
        StringBuilder sb = new StringBuilder();
        sb.append("pid ").append(d.pid()).append(": ").append(d.threads()).append(" threads, ").append(d.samples())
                .append(" samples in ").append(d.elapsed().toMillis()).append(" ms: ");
        if (d.healthy()) {
            return sb.append("no deadlock, stall, contention, pinned virtual thread, overuse or child process found")
                    .toString();
        }
        sb.append(d.findings().size()).append(" finding(s)");
        d.findings().forEach(f -> sb.append(System.lineSeparator()).append("  ").append(f.summary()));
        return sb.toString();
    }

    /**
     * One JSON object per diagnosis: per finding its kind, its plain-words summary and its evidence (the finding
     * record's components: threads, locks, frames), so that tools need not parse the summary.
     */
    private static String json(Diagnosis d) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("pid", d.pid());
        root.put("threads", d.threads());
        root.put("samples", d.samples());
        root.put("elapsedMillis", d.elapsed().toMillis());
        List<Map<String, Object>> findings = new ArrayList<>();
        for (Finding f : d.findings()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("kind", f.getClass().getSimpleName());
            one.put("summary", f.summary());
            one.put("evidence", f);
            findings.add(one);
        }
        root.put("findings", findings);
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a diagnosis could not be written as JSON", e);
        }
    }

    private record Case(String mode, String arg, Class<? extends Finding> expected) {
    }

    private int selfTest(Doctor doctor, PrintWriter out) throws InterruptedException {
        List<Case> cases = List.of(new Case("deadlock-monitors", "", Finding.Deadlock.class),
                new Case("deadlock-locks", "", Finding.Deadlock.class), new Case("stall", "", Finding.Stall.class),
                new Case("contention", "", Finding.ContentionHotSpot.class),
                new Case("threads", "2000", Finding.ThreadOveruse.class),
                new Case("pinned", "2", Finding.PinnedVirtualThread.class),
                new Case("children", "", Finding.ChildProcesses.class), new Case("healthy", "", null),
                new Case("virtual-parked", "2000", null));
        int failed = 0;
        for (Case c : cases) {
            String verdict;
            String[] args = c.arg().isEmpty() ? new String[] {c.mode()} : new String[] {c.mode(), c.arg()};
            try (SickJvmProcess sick = SickJvmProcess.start(READY_TIMEOUT, args)) {
                Diagnosis d = doctor.diagnose(sick.pid());
                boolean ok = c.expected() == null ? d.healthy() : !d.findings(c.expected()).isEmpty();
                verdict = (ok ? "PASS " : "FAIL ") + c.mode() + ": " + (d.healthy() ? "no findings"
                        : evidence(d, c.expected()).summary());
                failed += ok ? 0 : 1;
            } catch (IOException | DoctorException e) {
                verdict = "FAIL " + c.mode() + ": " + e.getMessage();
                failed++;
            }
            out.println(verdict);
            out.flush();
        }
        out.printf("%d of %d cases passed%n", cases.size() - failed, cases.size());
        return failed == 0 ? Main.OK : 1;
    }

    /** The finding a case expects if present, else the first one (what a failed case found instead). */
    private static Finding evidence(Diagnosis d, Class<? extends Finding> expected) {
        List<? extends Finding> wanted = expected == null ? List.of() : d.findings(expected);
        return wanted.isEmpty() ? d.findings().getFirst() : wanted.getFirst();
    }
}
