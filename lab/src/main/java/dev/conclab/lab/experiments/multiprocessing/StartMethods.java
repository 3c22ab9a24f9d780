package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What creating a worker process costs: CPython's start methods ({@code fork}, {@code forkserver}, {@code spawn}),
 * handing a large argument to the child, and {@code Pool} start-up — beside a child JVM started with and without
 * class-data sharing and C1-only compilation. The {@code start-cost} experiment already compares threads, virtual
 * threads and processes; this one measures what it does not: start methods and argument transfer.
 *
 * <ol>
 *   <li><b>BASELINE — fork.</b> The child is a copy of the parent: nothing is imported again and inherited data is
 *       not copied up front (copy-on-write; see {@code copy-on-write}).</li>
 *   <li><b>spawn / forkserver.</b> {@code spawn} starts a fresh interpreter that re-imports the main module and
 *       unpickles its arguments; {@code forkserver} forks children from a server process started once.</li>
 *   <li><b>Argument transfer.</b> A large {@code bytes} object inherited under fork versus pickled to a spawned
 *       child; on the JVM, the same bytes written to a child JVM's standard input (a child JVM shares nothing
 *       with its parent).</li>
 *   <li><b>Child JVM options.</b> The default (CDS archive on), {@code -Xshare:off}, and
 *       {@code -XX:TieredStopAtLevel=1}.</li>
 * </ol>
 *
 * <p>Stateless; every child process is tracked by the run and has exited before {@code run} returns.
 *
 * <p>Run: {@code ./conclab run start-methods}. Expect fork in a few ms, spawn in ~100 ms, a child JVM in tens to
 * hundreds of ms, and the pickled argument to add time in proportion to its size.
 */
public final class StartMethods implements Experiment {

    static final ClaimSpec PY_SPAWN_DEARER = new ClaimSpec("py-spawn-dearer",
            "Starting and joining a process with the spawn start method costs at least 3× more than with fork.");
    static final ClaimSpec PY_PICKLED_ARGUMENT = new ClaimSpec("py-pickled-argument",
            "Passing a large bytes argument to a spawned child adds at least 20 ms to its start, and at least 5×"
                    + " more than inheriting the same bytes adds to a forked child.");
    static final ClaimSpec PY_POOL_SPAWN_DEARER = new ClaimSpec("py-pool-spawn-dearer",
            "Creating, using once and joining a Pool costs at least 2× more under spawn than under fork.");
    static final ClaimSpec JVM_SENDS_DATA = new ClaimSpec("jvm-sends-data",
            "A child JVM inherits none of its parent's heap: the same bytes must be sent to it, and every byte"
                    + " arrives through its standard input.");

    @Override
    public String id() {
        return "start-methods";
    }

    @Override
    public String title() {
        return "Process creation overheads: fork, forkserver and spawn, pickled arguments, Pool start-up, child"
                + " JVMs";
    }

    @Override
    public String description() {
        return "Times starting and joining a CPython process under each start method, handing it a large argument"
                + " (inherited under fork, pickled under spawn) and starting a Pool; beside a child JVM with"
                + " default, -Xshare:off and -XX:TieredStopAtLevel=1 options, and one that is sent the data.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("mb", "size of the argument handed to the child, MB", 1, 256, 64, 32));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_SPAWN_DEARER, PY_PICKLED_ARGUMENT, PY_POOL_SPAWN_DEARER, JVM_SENDS_DATA);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int mb = ctx.intParam("mb");
        Table.Builder table = Table.builder("Start and join one child (best of several)", "runtime", "how",
                "ms", "× baseline");
        ctx.progress(0.05, "CPython: start_methods.py");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("start_methods.py", List.of(), Duration.ofSeconds(120),
                "--mb", Integer.toString(mb), "--repeat", ctx.quick() ? "3" : "5");
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_SPAWN_DEARER, PY_PICKLED_ARGUMENT, PY_POOL_SPAWN_DEARER);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> python(ctx, ran, mb, table);
        }
        ctx.progress(0.6, "child JVMs");
        jvm(ctx, mb, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void python(RunContext ctx, ProbeOutcome.Ran ran, int mb, Table.Builder table) {
        JsonNode json = ran.json();
        String py = "CPython " + ran.interpreter().version();
        JsonNode start = json.path("start_s");
        double fork = start.path("fork").asDouble() * 1e3;
        for (String m : List.of("fork", "forkserver", "spawn")) {
            double ms = start.path(m).asDouble() * 1e3;
            table.row(py, "Process, " + m + (m.equals("fork") ? " (baseline)" : ""), ms, ms / fork);
        }
        ctx.claim(PY_SPAWN_DEARER, Verdict.atLeast("spawn ÷ fork (start and join a no-op process)",
                start.path("spawn").asDouble() * 1e3 / fork, 3));

        JsonNode t = json.path("transfer_s");
        double forkNone = t.path("fork_none").asDouble() * 1e3;
        double forkInherit = t.path("fork_inherit").asDouble() * 1e3;
        double spawnNone = t.path("spawn_none").asDouble() * 1e3;
        double spawnPickled = t.path("spawn_pickled").asDouble() * 1e3;
        table.row(py, "fork, child reads nothing", forkNone, forkNone / fork);
        table.row(py, "fork, child reads an inherited " + mb + " MB global", forkInherit, forkInherit / fork);
        table.row(py, "spawn, child reads nothing", spawnNone, spawnNone / fork);
        table.row(py, "spawn, " + mb + " MB pickled as the argument", spawnPickled, spawnPickled / fork);
        double added = spawnPickled - spawnNone;
        double inherited = forkInherit - forkNone; // near zero, either sign: fork copies no data up front
        ctx.claim(PY_PICKLED_ARGUMENT, Verdict.check(added >= 20 && inherited * 5 <= added, String.format(
                "pickling %d MB to a spawned child added %.1f ms (needs ≥ 20); inheriting it under fork added %.1f ms"
                        + " (needs ≤ a fifth of %.1f)", mb, added, inherited, added)));

        JsonNode pool = json.path("pool_s");
        double poolFork = pool.path("fork").asDouble() * 1e3;
        double poolSpawn = pool.path("spawn").asDouble() * 1e3;
        int processes = json.path("processes").asInt();
        table.row(py, "Pool(" + processes + ") start, one map, close, join: fork", poolFork, poolFork / fork);
        table.row(py, "Pool(" + processes + ") start, one map, close, join: spawn", poolSpawn, poolSpawn / fork);
        ctx.claim(PY_POOL_SPAWN_DEARER, Verdict.atLeast("Pool under spawn ÷ under fork", poolSpawn / poolFork, 2));
    }

    private static void jvm(RunContext ctx, int mb, Table.Builder table) throws Exception {
        JvmLauncher plain = JvmLauncher.ofCurrentJvm();
        int repeats = ctx.repeats();
        Timing base = Measure.bestOf(repeats, ctx, () -> child(ctx, plain, 0));
        double baseMs = base.bestMillis();
        table.row("JVM", "child JVM, trivial main, default options (baseline)", baseMs, 1.0);
        for (String option : List.of("-Xshare:off", "-XX:TieredStopAtLevel=1")) {
            double ms = Measure.bestOf(repeats, ctx, () -> child(ctx, plain.withOptions(option), 0)).bestMillis();
            table.row("JVM", "child JVM, " + option, ms, ms / baseMs);
        }
        long bytes = (long) mb << 20;
        long[] received = new long[1];
        double sendMs = Measure.bestOf(repeats, ctx, () -> received[0] = child(ctx, plain, bytes)).bestMillis();
        table.row("JVM", "child JVM, " + mb + " MB written to its standard input", sendMs, sendMs / baseMs);
        ctx.claim(JVM_SENDS_DATA, Verdict.check(received[0] == bytes, String.format(
                "the child JVM counted %d bytes on its standard input (needs %d); with them it took %.1f ms, without"
                        + " %.1f ms", received[0], bytes, sendMs, baseMs)));
    }

    /** Starts a child JVM, writes {@code bytes} to its standard input, and returns the count it reports. */
    private static long child(RunContext ctx, JvmLauncher launcher, long bytes) throws Exception {
        Process p = ctx.children().track(launcher.start(Child.class));
        try (OutputStream in = p.getOutputStream()) {
            byte[] block = new byte[1 << 16];
            Arrays.fill(block, (byte) 1);
            for (long sent = 0; sent < bytes; sent += block.length) {
                in.write(block, 0, (int) Math.min(block.length, bytes - sent));
            }
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("child JVM failed: " + out);
        }
        return Long.parseLong(out);
    }

    /**
     * The child JVM: counts the bytes on its standard input and prints the count. Dies with its parent. Not for
     * use in the lab's own JVM.
     */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws IOException {
            ParentWatch.exitWithParent();
            InputStream in = System.in;
            byte[] buf = new byte[1 << 16];
            long count = 0;
            for (int r; (r = in.read(buf)) != -1; ) {
                count += r;
            }
            System.out.println(count);
        }
    }
}
