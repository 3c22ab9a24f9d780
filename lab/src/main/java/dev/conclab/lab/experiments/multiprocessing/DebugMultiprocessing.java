package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debugging code that runs in other processes: every tool here is used for real, and its output is checked.
 *
 * <p>CPython (one probe):
 * <ul>
 *   <li>an exception in a {@code Pool} worker is re-raised by {@code pool.map} in the parent, chained to a
 *       {@code multiprocessing.pool.RemoteTraceback} that carries the worker's own traceback text;</li>
 *   <li>a worker killed by a signal (the task sends itself SIGKILL) makes the {@code ProcessPoolExecutor}'s
 *       future raise {@code BrokenProcessPool} instead of waiting for ever;</li>
 *   <li>{@code faulthandler.dump_traceback_later} in a child that then blocks writes the child's stack, naming
 *       the blocked function;</li>
 *   <li>worker logging through a {@code QueueHandler} with {@code %(processName)s} names the workers;</li>
 *   <li>{@code multiprocessing.log_to_stderr()} makes multiprocessing report its own life cycle on stderr.</li>
 * </ul>
 * JVM: a child JVM blocked in a named method is dumped with {@code jcmd <pid> Thread.print} (the JDK's attach
 * tool, like {@code jstack}), and a child's uncaught exception is read back from its exit status and stderr.
 * Every outcome is forced, so each claim holds on every run. Run: {@code ./conclab run debug-multiprocessing}.
 */
public final class DebugMultiprocessing implements Experiment {

    static final ClaimSpec REMOTE_TRACEBACK = new ClaimSpec("remote-traceback",
            "An exception raised in a Pool worker is re-raised in the parent with a RemoteTraceback cause that"
                    + " names the worker's function.");
    static final ClaimSpec BROKEN_POOL = new ClaimSpec("broken-pool",
            "A worker killed by SIGKILL makes the ProcessPoolExecutor's future raise BrokenProcessPool.");
    static final ClaimSpec FAULTHANDLER = new ClaimSpec("faulthandler",
            "faulthandler.dump_traceback_later in a blocked child writes a traceback naming the blocked function.");
    static final ClaimSpec PROCESS_NAMES = new ClaimSpec("process-names",
            "Worker log records formatted with %(processName)s name the pool's worker processes, not the main"
                    + " process.");
    static final ClaimSpec LOG_TO_STDERR = new ClaimSpec("log-to-stderr",
            "multiprocessing.log_to_stderr() prints multiprocessing's own life-cycle messages, tagged with the"
                    + " process name.");
    static final ClaimSpec JVM_THREAD_DUMP = new ClaimSpec("jvm-thread-dump",
            "jcmd <pid> Thread.print on a blocked child JVM prints a stack naming the method it is blocked in.");
    static final ClaimSpec JVM_UNCAUGHT = new ClaimSpec("jvm-uncaught",
            "A child JVM's uncaught exception surfaces as exit status 1 and a stack trace on its stderr.");

    @Override
    public String id() {
        return "debug-multiprocessing";
    }

    @Override
    public String title() {
        return "Debugging code in other processes";
    }

    @Override
    public String description() {
        return "Uses the tools for debugging multiprocessing code — RemoteTraceback, BrokenProcessPool,"
                + " faulthandler, %(processName)s logging, log_to_stderr — and, on the JVM, jcmd Thread.print on a"
                + " blocked child and a child's uncaught exception, checking what each one shows.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("dump-after-ms", "faulthandler's timeout before it dumps the stack",
                50, 10_000, 200, 100));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(REMOTE_TRACEBACK, BROKEN_POOL, FAULTHANDLER, PROCESS_NAMES, LOG_TO_STDERR, JVM_THREAD_DUMP,
                JVM_UNCAUGHT);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Table.Builder table = Table.builder("Debugging tools and what they showed", "runtime", "tool", "showed");
        ctx.progress(0.05, "CPython: five tools");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("debug_mp.py", List.of(), Duration.ofSeconds(120),
                "--dump-after-ms", Integer.toString(ctx.intParam("dump-after-ms")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, REMOTE_TRACEBACK, BROKEN_POOL, FAULTHANDLER,
                    PROCESS_NAMES, LOG_TO_STDERR);
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran.json(), table);
        }

        ctx.progress(0.5, "JVM: jcmd Thread.print on a blocked child");
        threadDump(ctx, table);
        ctx.progress(0.8, "JVM: a child's uncaught exception");
        uncaught(ctx, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void judgePython(RunContext ctx, JsonNode json, Table.Builder table) {
        JsonNode remote = json.path("remote_traceback");
        table.row("CPython", "Pool worker exception", remote.path("raised").asText() + " from "
                + remote.path("cause").asText() + ": " + remote.path("worker_line").asText());
        ctx.claim(REMOTE_TRACEBACK, Verdict.check(remote.path("raised").asText().equals("ValueError")
                        && remote.path("cause").asText().equals("RemoteTraceback")
                        && remote.path("names_worker_function").asBoolean(),
                "parent caught " + remote.path("raised").asText() + ", __cause__ "
                        + remote.path("cause").asText() + ", worker frame: " + remote.path("worker_line").asText()));

        JsonNode broken = json.path("broken_pool");
        table.row("CPython", "worker killed by SIGKILL", String.format("%s after %.1f ms",
                broken.path("raised").asText(), broken.path("seconds").asDouble() * 1e3));
        ctx.claim(BROKEN_POOL, Verdict.check(broken.path("raised").asText().equals("BrokenProcessPool"),
                "future.result() raised " + broken.path("raised").asText()));

        JsonNode fault = json.path("faulthandler");
        String frame = "";
        for (JsonNode line : fault.path("dump_lines")) {
            if (line.asText().contains("stuck_in_child")) {
                frame = line.asText().strip();
            }
        }
        table.row("CPython", "faulthandler.dump_traceback_later", fault.path("dump_lines").path(0).asText() + " "
                + frame);
        ctx.claim(FAULTHANDLER, Verdict.check(fault.path("names_blocked_function").asBoolean(),
                "the dump's innermost frame: " + (frame.isEmpty() ? "(no frame names stuck_in_child)" : frame)));

        List<String> names = new ArrayList<>();
        for (JsonNode name : json.path("logging").path("process_names")) {
            names.add(name.asText());
        }
        table.row("CPython", "QueueHandler + %(processName)s", "records from " + names);
        ctx.claim(PROCESS_NAMES, Verdict.check(!names.isEmpty() && !names.contains("MainProcess"),
                "log records came from " + names));

        JsonNode stderr = json.path("log_to_stderr");
        List<String> sample = new ArrayList<>();
        boolean tagged = false;
        for (JsonNode line : stderr.path("sample")) {
            sample.add(line.asText());
            tagged |= line.asText().matches("\\[INFO/\\w+PoolWorker-\\d+].*");
        }
        table.row("CPython", "multiprocessing.log_to_stderr()", sample.isEmpty() ? "(nothing)" : sample.getFirst());
        ctx.claim(LOG_TO_STDERR, Verdict.check(tagged, stderr.path("lines").asInt() + " lines on stderr, e.g. "
                + sample));
    }

    private static JvmLauncher launcher() {
        return JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx32m", "-XX:TieredStopAtLevel=1");
    }

    /** Starts a child blocked in {@link Child#waitForeverInChild}, dumps its threads with jcmd, then ends it. */
    private static void threadDump(RunContext ctx, Table.Builder table) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            ctx.claim(JVM_THREAD_DUMP, Verdict.skipped("this JDK has no " + jcmd + " (a JRE?)"));
            return;
        }
        Process child = ctx.children().track(launcher().start(Child.class, "block"));
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String ready = out.readLine(); // printed just before it blocks
            if (!"blocking".equals(ready)) {
                throw new ProbeException("the blocking child JVM printed " + ready + " instead of 'blocking'");
            }
            Process dump = ctx.children().start(new ProcessBuilder(jcmd.toString(), Long.toString(child.pid()),
                    "Thread.print").redirectErrorStream(true));
            String text = readAll(dump.getInputStream());
            if (!dump.waitFor(60, TimeUnit.SECONDS)) {
                throw new ProbeException("jcmd " + child.pid() + " Thread.print did not finish in 60 s");
            }
            String frame = text.lines().map(String::strip).filter(l -> l.contains("waitForeverInChild"))
                    .findFirst().orElse("");
            String state = text.lines().map(String::strip).filter(l -> l.startsWith("java.lang.Thread.State"))
                    .findFirst().orElse("");
            table.row("JVM", "jcmd <pid> Thread.print", state + "; " + frame);
            ctx.claim(JVM_THREAD_DUMP, Verdict.check(dump.exitValue() == 0 && !frame.isEmpty(), String.format(
                    "jcmd exit status %d; %d lines; frame: %s", dump.exitValue(), text.lines().count(),
                    frame.isEmpty() ? "(none names waitForeverInChild)" : frame)));
        } finally {
            child.destroy();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts a child that throws from {@link Child#failInChild} and reads its exit status and stderr. */
    private static void uncaught(RunContext ctx, Table.Builder table) throws Exception {
        Process child = ctx.children().start(new ProcessBuilder(launcher().command(Child.class, "throw"))
                .redirectErrorStream(true));
        child.getOutputStream().close();
        String text = readAll(child.getInputStream());
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            throw new ProbeException("the throwing child JVM did not exit in 60 s");
        }
        int status = child.exitValue();
        String header = text.lines().filter(l -> l.contains("Exception in thread")).findFirst().orElse("");
        boolean namesMethod = text.lines().anyMatch(l -> l.strip().startsWith("at ")
                && l.contains("failInChild"));
        table.row("JVM", "child's uncaught exception", "exit status " + status + "; " + header.strip());
        ctx.claim(JVM_UNCAUGHT, Verdict.check(status == 1 && !header.isEmpty() && namesMethod, String.format(
                "exit status %d; stderr: %s; a frame names failInChild: %s", status, header.strip(), namesMethod)));
    }

    private static String readAll(InputStream in) throws IOException {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The child JVM's main. {@code block}: prints {@code blocking} and waits in {@link #waitForeverInChild} until
     * destroyed. {@code throw}: throws an {@link IllegalStateException} from {@link #failInChild}, uncaught, so
     * the JVM exits with status 1 after printing the stack trace. Exits with its parent either way.
     */
    public static final class Child {

        private static final Object LOCK = new Object();

        private Child() {
        }

        public static void main(String[] args) throws InterruptedException {
            ParentWatch.exitWithParent();
            switch (args[0]) {
                case "block" -> waitForeverInChild();
                case "throw" -> failInChild();
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        }

        static void waitForeverInChild() throws InterruptedException {
            System.out.println("blocking");
            System.out.flush();
            synchronized (LOCK) {
                while (true) {
                    LOCK.wait(); // nobody notifies: the parent destroys this process
                }
            }
        }

        static void failInChild() {
            throw new IllegalStateException("the child failed on purpose");
        }
    }
}
