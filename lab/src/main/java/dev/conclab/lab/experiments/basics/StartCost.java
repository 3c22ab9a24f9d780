package dev.conclab.lab.experiments.basics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.BurnWorker;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What it costs to start a unit of concurrency and wait for it to end, with a task that does nothing — so the
 * cost measured is the unit's own.
 *
 * <ul>
 *   <li><b>BASELINE — platform thread:</b> {@code Thread.ofPlatform().start(noop).join()}: an OS thread with its own
 *       kernel stack, created and torn down by the kernel.</li>
 *   <li><b>Virtual thread:</b> a JVM object scheduled on a small pool of carrier threads; starting one allocates a
 *       little heap and submits it to the scheduler — no system call for the thread itself.</li>
 *   <li><b>OS process:</b> {@code /bin/true} through {@code ProcessBuilder} (fork/exec, without a JVM), and
 *       <b>JVM process:</b> a fresh JVM running a trivial main — what process parallelism costs on the JVM, which
 *       cannot fork.</li>
 *   <li><b>CPython</b>, through the {@code start_cost.py} probe: {@code threading.Thread}, {@code
 *       multiprocessing.Process} with the default start method (fork on Linux before 3.14) and with spawn, and
 *       whether a write to a global made in the child is seen by the parent.</li>
 * </ul>
 *
 * <p>Run: {@code ./conclab run start-cost}. Expect a virtual thread to cost a few µs, a platform thread tens of
 * µs, a process milliseconds, and a JVM process tens of milliseconds or more.
 */
public final class StartCost implements Experiment {

    static final ClaimSpec VIRTUAL_CHEAPER = new ClaimSpec("virtual-cheaper",
            "Starting and joining a virtual thread costs at least 3× less than a platform thread.");
    static final ClaimSpec PROCESS_DEARER = new ClaimSpec("process-dearer",
            "Starting a JVM process costs at least 10× more than starting a platform thread.");
    static final ClaimSpec PY_PROCESS_DEARER = new ClaimSpec("py-process-dearer",
            "In CPython, starting a multiprocessing.Process costs at least 5× more than a threading.Thread.");
    static final ClaimSpec PY_ISOLATION = new ClaimSpec("py-isolation",
            "A thread's write to a global is seen by its parent; a child process's write is not.");

    private static final Runnable NOOP = () -> { };

    @Override
    public String id() {
        return "start-cost";
    }

    @Override
    public String title() {
        return "The cost of starting a platform thread, a virtual thread, a process and a JVM (and CPython's)";
    }

    @Override
    public String description() {
        return "Starts and joins many no-op platform threads, virtual threads, OS processes and JVM processes, and"
                + " CPython threads and processes, and reports the cost of one of each.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "threads started per measurement", 100, 1_000_000, 20_000, 2_000),
                new Param.IntParam("processes", "processes started per measurement", 1, 1_000, 10, 3),
                new Param.IntParam("py-count", "CPython threads and processes started per measurement", 1, 10_000,
                        100, 30));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(VIRTUAL_CHEAPER, PROCESS_DEARER, PY_PROCESS_DEARER, PY_ISOLATION);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int threads = ctx.intParam("threads");
        int processes = ctx.intParam("processes");
        int repeats = ctx.repeats();

        ctx.progress(0.05, "platform threads");
        startAndJoin(ctx, false, threads); // warm-up: the JIT compiles the loop and the thread builders
        Timing platform = Measure.bestOf(repeats, ctx, () -> startAndJoin(ctx, false, threads));
        ctx.progress(0.25, "virtual threads");
        startAndJoin(ctx, true, threads);
        Timing virtual = Measure.bestOf(repeats, ctx, () -> startAndJoin(ctx, true, threads));

        ctx.progress(0.45, "OS processes");
        Path bintrue = Path.of("/bin/true");
        Timing os = Files.isExecutable(bintrue) ? Measure.bestOf(repeats, ctx, () -> {
            for (int i = 0; i < processes; i++) {
                Process p = ctx.children().start(new ProcessBuilder(bintrue.toString()));
                p.waitFor();
            }
        }) : null;
        ctx.progress(0.55, "JVM processes");
        Timing jvm = Measure.bestOf(repeats, ctx, () -> {
            for (int i = 0; i < processes; i++) {
                BurnWorker.runAll(1, 0, ctx.children()::track);
            }
        });

        double platformUs = platform.best() / threads * 1e6;
        double virtualUs = virtual.best() / threads * 1e6;
        double jvmUs = jvm.best() / processes * 1e6;
        Table.Builder table = Table.builder("Start and join one unit that does nothing (best of " + repeats + ")",
                        "unit", "runtime", "µs each", "× platform thread")
                .row("platform thread (baseline)", "JVM", platformUs, 1.0)
                .row("virtual thread", "JVM", virtualUs, virtualUs / platformUs);
        if (os != null) {
            double osUs = os.best() / processes * 1e6;
            table.row("OS process (/bin/true)", "JVM", osUs, osUs / platformUs);
        }
        table.row("JVM process (trivial main)", "JVM", jvmUs, jvmUs / platformUs);

        ctx.claim(VIRTUAL_CHEAPER, Verdict.atLeast("platform thread cost ÷ virtual thread cost",
                platformUs / virtualUs, 3));
        ctx.claim(PROCESS_DEARER, Verdict.atLeast("JVM process cost ÷ platform thread cost", jvmUs / platformUs,
                10));

        ctx.progress(0.75, "CPython threads and processes");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("start_cost.py", List.of(), Duration.ofSeconds(120),
                "--count", Integer.toString(ctx.intParam("py-count")), "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_PROCESS_DEARER, PY_ISOLATION);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double threadUs = json.path("thread_us").asDouble();
                double processUs = json.path("process_us").asDouble();
                double spawnUs = json.path("spawn_process_us").asDouble();
                String method = json.path("default_start_method").asText();
                table.row("threading.Thread", "CPython", threadUs, threadUs / platformUs)
                        .row("multiprocessing.Process (" + method + ")", "CPython", processUs, processUs / platformUs)
                        .row("multiprocessing.Process (spawn)", "CPython", spawnUs, spawnUs / platformUs);
                ctx.claim(PY_PROCESS_DEARER, Verdict.atLeast("Process (" + method + ") cost ÷ Thread cost",
                        processUs / threadUs, 5));
                JsonNode isolation = json.path("isolation");
                boolean threadSeen = isolation.path("thread_write_seen_by_parent").asBoolean();
                boolean processSeen = isolation.path("process_write_seen_by_parent").asBoolean(true);
                ctx.claim(PY_ISOLATION, Verdict.check(threadSeen && !processSeen, String.format(
                        "after a thread set counter = 1 the parent read %s; after a child process did, it read %s",
                        threadSeen ? "1" : "0", processSeen ? "1" : "0")));
            }
        }
        Table result = table.build();
        ctx.table(result);
        List<Series.Point> points = new ArrayList<>();
        for (int i = 0; i < result.rows().size(); i++) {
            points.add(new Series.Point(i + 1, ((Number) result.rows().get(i).get(2)).doubleValue()));
        }
        ctx.series(new Series("Cost to start and join one", "µs each", "unit (table row)", "µs", points));
        ctx.progress(1, "done");
    }

    private static void startAndJoin(RunContext ctx, boolean virtual, int count) throws InterruptedException {
        Thread.Builder builder = virtual ? Thread.ofVirtual() : Thread.ofPlatform();
        for (int i = 0; i < count; i++) {
            if ((i & 1023) == 0) {
                ctx.checkCancelled();
            }
            builder.start(NOOP).join();
        }
    }
}
