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

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * When a process pool is slower than threads: the cases where what a process costs (pickling, a pipe round trip
 * per task, a second interpreter's memory) is larger than what it buys (a GIL of its own).
 *
 * <p><b>BASELINE:</b> a {@code ThreadPoolExecutor} of 2. <b>Variant:</b> a {@code ProcessPoolExecutor} of 2, started
 * and warmed up before timing, running the same tasks:
 * <ul>
 *   <li>tiny tasks ({@code x + 1}): every task is pickled, sent down a pipe and its result sent back, which costs
 *       far more than the task; the process pool loses to the threads and both lose to a plain loop;</li>
 *   <li>large arguments (a 50 MiB {@code bytes} per task): the process pool copies every byte through a pipe,
 *       a thread is handed a reference;</li>
 *   <li>I/O-bound tasks ({@code time.sleep}): the GIL is released while waiting, so threads are as fast, and each
 *       worker process holds megabytes where a thread holds kilobytes;</li>
 *   <li>GIL-releasing work ({@code hashlib} on large buffers): threads already run in parallel.</li>
 * </ul>
 * On the JVM there is no GIL, so processes never win on speed; their only gains are isolation and fault
 * containment. The JVM rows compare a task on a thread pool with a line round trip to a child JVM.
 *
 * <p>Run: {@code ./conclab run processes-lose}.
 */
public final class ProcessesLose implements Experiment {

    static final ClaimSpec TINY_TASKS = new ClaimSpec("tiny-tasks",
            "For tiny tasks a ProcessPoolExecutor is at least 3× slower than a ThreadPoolExecutor, and both are"
                    + " slower than a plain loop.");
    static final ClaimSpec LARGE_ARGUMENTS = new ClaimSpec("large-arguments",
            "Passing a large bytes object to each task makes the process pool at least 10× slower than threads,"
                    + " which pass a reference.");
    static final ClaimSpec IO_BOUND = new ClaimSpec("io-bound",
            "For sleeping (I/O-bound) tasks threads finish within 1.25× of processes, and the worker processes"
                    + " hold at least 4 MiB more memory than the worker threads.");
    static final ClaimSpec GIL_RELEASED = new ClaimSpec("gil-released",
            "For hashlib on large buffers, which releases the GIL, threads take at most 1.33× as long as"
                    + " processes.");
    static final ClaimSpec JVM_ROUND_TRIP = new ClaimSpec("jvm-round-trip",
            "On the JVM a round trip to a child JVM per tiny task is at least 2× slower than a task on a thread"
                    + " pool.");

    private static final int WORKERS = 2;

    @Override
    public String id() {
        return "processes-lose";
    }

    @Override
    public String title() {
        return "When processes lose to threads";
    }

    @Override
    public String description() {
        return "Runs tiny tasks, tasks with large arguments, sleeping tasks and hashlib tasks on a CPython thread"
                + " pool and process pool, and tiny tasks on a JVM thread pool and a child JVM, and measures"
                + " what a process costs per task.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tiny-tasks", "number of tiny tasks", 100, 1_000_000, 5_000, 2_000),
                new Param.IntParam("large-mb", "MiB passed to each task in the large-argument case", 1, 1_024, 50,
                        20),
                new Param.IntParam("hash-mb", "MiB hashed per task in the GIL-releasing case", 2, 1_024, 64, 32));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(TINY_TASKS, LARGE_ARGUMENTS, IO_BOUND, GIL_RELEASED, JVM_ROUND_TRIP);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int tasks = ctx.intParam("tiny-tasks");
        Table.Builder table = Table.builder("Threads vs processes, " + WORKERS + " workers each (best of "
                + ctx.repeats() + ")", "runtime", "case", "threads ms", "processes ms", "processes / threads");

        ctx.progress(0.05, "CPython: four cases");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("processes_lose.py", List.of(), Duration.ofSeconds(120),
                "--workers", Integer.toString(WORKERS),
                "--tiny-tasks", Integer.toString(tasks),
                "--large-mb", Integer.toString(ctx.intParam("large-mb")),
                "--hash-mb", Integer.toString(ctx.intParam("hash-mb")),
                "--io-tasks", ctx.quick() ? "8" : "16",
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, TINY_TASKS, LARGE_ARGUMENTS, IO_BOUND,
                    GIL_RELEASED);
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran.json(), table);
        }

        ctx.progress(0.6, "JVM: thread pool vs child JVM round trips");
        Timing threads;
        try (ExecutorService pool = Executors.newFixedThreadPool(WORKERS)) {
            threads = Measure.bestOf(ctx.repeats(), ctx, () -> {
                List<Future<Integer>> results = new ArrayList<>(tasks);
                for (int i = 0; i < tasks; i++) {
                    int x = i;
                    results.add(pool.submit(() -> x + 1));
                }
                for (Future<Integer> result : results) {
                    result.get();
                }
            });
        }
        Timing child = roundTrips(ctx, tasks);
        table.row("JVM", tasks + " tiny tasks (child JVM: one line round trip each)", threads.bestMillis(),
                child.bestMillis(), child.best() / threads.best());
        ctx.claim(JVM_ROUND_TRIP, Verdict.atLeast("child JVM round trips vs thread pool tasks",
                child.best() / threads.best(), 2));
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void judgePython(RunContext ctx, JsonNode json, Table.Builder table) {
        JsonNode tiny = json.path("tiny");
        double tinySerial = tiny.path("serial_s").asDouble();
        double tinyThreads = tiny.path("threads_s").asDouble();
        double tinyProcesses = tiny.path("processes_s").asDouble();
        table.row("CPython", tiny.path("tasks").asInt() + " tiny tasks (plain loop: "
                        + String.format("%.2f ms", tinySerial * 1e3) + ")", tinyThreads * 1e3, tinyProcesses * 1e3,
                tinyProcesses / tinyThreads);
        ctx.claim(TINY_TASKS, Verdict.check(tinyProcesses >= 3 * tinyThreads && tinyThreads > tinySerial,
                String.format("processes %.1f ms = %.1f× threads %.1f ms (needs ≥ 3×); plain loop %.2f ms;"
                                + " %.1f µs per task on processes", tinyProcesses * 1e3, tinyProcesses / tinyThreads,
                        tinyThreads * 1e3, tinySerial * 1e3, tinyProcesses / tiny.path("tasks").asInt() * 1e6)));

        JsonNode large = json.path("large");
        double largeThreads = large.path("threads_s").asDouble();
        double largeProcesses = large.path("processes_s").asDouble();
        table.row("CPython", large.path("tasks").asInt() + " tasks × " + large.path("megabytes").asInt()
                + " MiB argument", largeThreads * 1e3, largeProcesses * 1e3, largeProcesses / largeThreads);
        ctx.claim(LARGE_ARGUMENTS, Verdict.atLeast("process pool vs threads, large arguments",
                largeProcesses / largeThreads, 10));

        JsonNode io = json.path("io");
        double ioThreads = io.path("threads_s").asDouble();
        double ioProcesses = io.path("processes_s").asDouble();
        long processKib = io.path("process_workers_pss_kib").asLong();
        long threadKib = io.path("thread_workers_kib").asLong();
        table.row("CPython", String.format("%d × sleep(%d ms); workers hold %d KiB (processes, PSS) vs %d KiB"
                        + " (threads)", io.path("tasks").asInt(), io.path("sleep_ms").asInt(), processKib, threadKib),
                ioThreads * 1e3, ioProcesses * 1e3, ioProcesses / ioThreads);
        ctx.claim(IO_BOUND, Verdict.check(ioThreads <= 1.25 * ioProcesses && processKib >= threadKib + 4096,
                String.format("threads / processes = %.2f× (needs ≤ 1.25×); worker memory %d KiB vs %d KiB"
                        + " (needs ≥ 4096 KiB more)", ioThreads / ioProcesses, processKib, threadKib)));

        JsonNode hash = json.path("gil_free");
        double hashThreads = hash.path("threads_s").asDouble();
        double hashProcesses = hash.path("processes_s").asDouble();
        table.row("CPython", hash.path("tasks").asInt() + " × hashlib.sha256 of " + hash.path("megabytes").asInt()
                + " MiB", hashThreads * 1e3, hashProcesses * 1e3, hashProcesses / hashThreads);
        ctx.claim(GIL_RELEASED, Verdict.atMost("threads / processes, hashlib", hashThreads / hashProcesses, 1.33));
    }

    /** Times {@code tasks} line round trips to one child JVM, started and warmed up outside the timing. */
    private static Timing roundTrips(RunContext ctx, int tasks) throws Exception {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx32m",
                "-XX:TieredStopAtLevel=1");
        Process child = ctx.children().track(launcher.start(EchoChild.class));
        try (BufferedWriter in = new BufferedWriter(new OutputStreamWriter(child.getOutputStream(),
                StandardCharsets.US_ASCII));
             BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                     StandardCharsets.US_ASCII))) {
            exchange(in, out, Math.min(tasks, 200)); // warm-up: class loading and the JIT on both sides
            Timing timing = Measure.bestOf(ctx.repeats(), ctx, () -> exchange(in, out, tasks));
            in.close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                throw new IOException("the echo child JVM did not exit after its input closed");
            }
            return timing;
        } finally {
            child.destroy();
        }
    }

    private static void exchange(BufferedWriter in, BufferedReader out, int tasks) throws IOException {
        for (int i = 0; i < tasks; i++) {
            in.write(Integer.toString(i));
            in.newLine();
            in.flush();
            String reply = out.readLine();
            if (reply == null || Integer.parseInt(reply) != i + 1) {
                throw new IOException("the echo child JVM answered " + reply + " to " + i);
            }
        }
    }

    /**
     * The child JVM's main: reads one integer per line from standard input and answers it plus one, flushing
     * after every line, until its input ends. Single-threaded; exits with its parent.
     */
    public static final class EchoChild {

        private EchoChild() {
        }

        public static void main(String[] args) throws IOException {
            ParentWatch.exitWithParent();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line; (line = in.readLine()) != null; ) {
                System.out.println(Integer.parseInt(line.strip()) + 1);
                System.out.flush();
            }
        }
    }
}
