package dev.conclab.lab.cli;

import dev.conclab.toolkit.diagnostics.doctor.Diagnosis;
import dev.conclab.toolkit.diagnostics.doctor.Doctor;
import dev.conclab.toolkit.diagnostics.doctor.DoctorException;
import dev.conclab.toolkit.diagnostics.doctor.Finding;
import dev.conclab.toolkit.diagnostics.doctor.SickJvm;
import dev.conclab.toolkit.process.JvmLauncher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code conclab doctor PID}: diagnoses a running JVM of the same user from its thread dumps (deadlocks, stalls,
 * contention, thread overuse, child processes); {@code --self-test} runs it against JVMs made sick on purpose.
 */
@Command(name = "doctor", description = "Diagnose a running JVM: deadlocks, stalls, contention, thread overuse,"
        + " child processes.")
final class DoctorCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PID", description = "process id of a JVM of the same user")
    Long pid;

    @Option(names = "--samples", defaultValue = "3", description = "thread dumps per diagnosis (1..100)")
    int samples;

    @Option(names = "--interval", defaultValue = "250", description = "milliseconds between dumps (0..60000)")
    int intervalMillis;

    @Option(names = "--watch", description = "diagnose again and again until interrupted")
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
        do {
            try {
                Diagnosis d = doctor.diagnose(pid);
                out.println(json ? json(d) : text(d));
                out.flush();
            } catch (DoctorException e) {
                throw new UsageError(e.getMessage());
            }
        } while (watch && !Thread.currentThread().isInterrupted());
        return Main.OK;
    }

    private static String text(Diagnosis d) {
        StringBuilder sb = new StringBuilder();
        sb.append("pid ").append(d.pid()).append(": ").append(d.threads()).append(" threads, ").append(d.samples())
                .append(" samples in ").append(d.elapsed().toMillis()).append(" ms: ");
        if (d.healthy()) {
            return sb.append("no deadlock, stall, contention, overuse or child process found").toString();
        }
        sb.append(d.findings().size()).append(" finding(s)");
        d.findings().forEach(f -> sb.append(System.lineSeparator()).append("  ").append(f.summary()));
        return sb.toString();
    }

    /** A flat JSON object per finding: its kind and its plain-words summary (the evidence is in the summary). */
    private static String json(Diagnosis d) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"pid\":").append(d.pid()).append(",\"threads\":").append(d.threads())
                .append(",\"samples\":").append(d.samples()).append(",\"elapsedMillis\":")
                .append(d.elapsed().toMillis()).append(",\"findings\":[");
        for (int i = 0; i < d.findings().size(); i++) {
            Finding f = d.findings().get(i);
            sb.append(i == 0 ? "" : ",").append("{\"kind\":").append(quote(f.getClass().getSimpleName()))
                    .append(",\"summary\":").append(quote(f.summary())).append('}');
        }
        return sb.append("]}").toString();
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private record Case(String mode, Class<? extends Finding> expected) {
    }

    private int selfTest(Doctor doctor, PrintWriter out) throws InterruptedException {
        List<Case> cases = List.of(new Case("deadlock-monitors", Finding.Deadlock.class),
                new Case("deadlock-locks", Finding.Deadlock.class), new Case("stall", Finding.Stall.class),
                new Case("contention", Finding.ContentionHotSpot.class),
                new Case("threads", Finding.ThreadOveruse.class),
                new Case("children", Finding.ChildProcesses.class), new Case("healthy", null));
        int failed = 0;
        for (Case c : cases) {
            Process p = null;
            String verdict;
            try {
                p = JvmLauncher.ofCurrentJvm().withOptions("-Xss256k").start(SickJvm.class, c.mode(), "2000");
                awaitReady(p);
                Diagnosis d = doctor.diagnose(p.pid());
                boolean ok = c.expected() == null ? d.healthy() : !d.findings(c.expected()).isEmpty();
                verdict = (ok ? "PASS " : "FAIL ") + c.mode() + ": " + (d.healthy() ? "no findings"
                        : d.findings().getFirst().summary());
                failed += ok ? 0 : 1;
            } catch (IOException | DoctorException e) {
                verdict = "FAIL " + c.mode() + ": " + e.getMessage();
                failed++;
            } finally {
                if (p != null) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
            out.println(verdict);
            out.flush();
        }
        out.printf("%d of %d cases passed%n", cases.size() - failed, cases.size());
        return failed == 0 ? Main.OK : 1;
    }

    private static void awaitReady(Process p) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            if (line.equals(SickJvm.READY)) {
                return;
            }
        }
        throw new IOException("the sick JVM exited before it was ready");
    }
}
