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
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The workload × model matrix: which concurrency model helps which kind of work.
 *
 * <p>Two workloads. <b>CPU-bound:</b> a fixed number of rounds of arithmetic, calibrated to {@code cpu-ms} on one
 * thread of this machine. <b>I/O-bound:</b> {@code requests} real TCP requests to a loopback server that answers
 * each after {@code delay-ms} — the time goes to waiting on a socket, as with a database or an HTTP API.
 *
 * <p>Each runs under every model: the <b>baseline</b> of one thread doing everything in turn; one platform thread
 * per core (CPU) or a pool of {@code io-threads} platform threads (I/O); virtual threads (one per slice of work,
 * one per request); one JVM process per core (CPU only: the JVM cannot fork, so each worker is a fresh JVM that
 * pays its start-up). CPython runs the same shapes through the {@code cpu_io_matrix.py} probe — pure-Python
 * arithmetic on threads and on a {@code multiprocessing.Pool}, and the same loopback requests on threads.
 *
 * <p>What to expect: waiting overlaps under every model, so I/O-bound work speeds up with the number of threads
 * until the waits overlap completely (16 threads ≈ 16×); computing overlaps only where there are cores to compute
 * on — JVM threads and processes scale with cores, CPython threads do not (the GIL), CPython processes do.
 *
 * <p>Run: {@code ./conclab run cpu-io-matrix}.
 */
public final class CpuIoMatrix implements Experiment {

    static final ClaimSpec JVM_IO_THREADS = new ClaimSpec("jvm-io-threads",
            "I/O-bound work on 16 platform threads is at least 8× faster than on 1 thread.");
    static final ClaimSpec JVM_IO_VIRTUAL = new ClaimSpec("jvm-io-virtual",
            "I/O-bound work on virtual threads, one per request, is at least 8× faster than on 1 thread.");
    static final ClaimSpec JVM_CPU_THREADS = new ClaimSpec("jvm-cpu-threads",
            "CPU-bound work on one JVM thread per core is at least 1.5× faster than on 1 thread (needs 2 cores).");
    static final ClaimSpec JVM_CPU_PROCESSES = new ClaimSpec("jvm-cpu-processes",
            "CPU-bound work split over one JVM process per core is faster than on 1 thread, start-up included"
                    + " (needs 2 cores).");
    static final ClaimSpec PY_CPU_THREADS = new ClaimSpec("py-cpu-threads",
            "CPU-bound pure-Python work on CPython threads is at most 1.2× faster than on 1 thread.");
    static final ClaimSpec PY_CPU_PROCESSES = new ClaimSpec("py-cpu-processes",
            "CPU-bound pure-Python work on CPython processes is at least 1.3× faster than on 1 thread"
                    + " (needs 2 cores).");
    static final ClaimSpec PY_IO_THREADS = new ClaimSpec("py-io-threads",
            "I/O-bound work on 16 CPython threads is at least 8× faster than on 1 thread.");

    @Override
    public String id() {
        return "cpu-io-matrix";
    }

    @Override
    public String title() {
        return "CPU-bound and I/O-bound work on one thread, threads, virtual threads and processes (JVM and CPython)";
    }

    @Override
    public String description() {
        return "Runs a CPU-bound and an I/O-bound workload (real requests to a delayed loopback server) on one"
                + " thread, platform threads, virtual threads and JVM processes, and the same shapes in CPython on"
                + " threads and processes; reports each model's speed-up over one thread.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("cpu-ms", "CPU-bound work, in ms of one thread on this machine", 50, 60_000,
                        2_000, 600),
                new Param.IntParam("requests", "I/O-bound requests to the loopback server", 16, 20_000, 256, 24),
                new Param.IntParam("delay-ms", "the server's delay per request, in ms", 1, 1_000, 20, 20),
                new Param.IntParam("io-threads", "platform threads (JVM and CPython) for the I/O-bound work", 1,
                        1_024, 16, 16),
                new Param.IntParam("py-iterations", "pure-Python loop iterations of the CPython CPU-bound work",
                        100_000, 1_000_000_000, 6_000_000, 1_500_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(JVM_IO_THREADS, JVM_IO_VIRTUAL, JVM_CPU_THREADS, JVM_CPU_PROCESSES, PY_CPU_THREADS,
                PY_CPU_PROCESSES, PY_IO_THREADS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int workers = ctx.cores();
        int repeats = ctx.repeats();
        int requests = ctx.intParam("requests");
        int ioThreads = ctx.intParam("io-threads");
        long rounds = CpuWork.roundsFor(ctx.intParam("cpu-ms"));
        long slice = rounds / workers;

        ctx.progress(0.02, "CPU-bound: one thread");
        Timing cpuOne = Measure.bestOf(repeats, ctx, () -> CpuWork.consume(slice * workers));
        ctx.progress(0.15, "CPU-bound: platform threads");
        Timing cpuThreads = Measure.bestOf(repeats, ctx, () -> cpuSlices(
                Executors.newFixedThreadPool(workers), workers, slice));
        ctx.progress(0.25, "CPU-bound: virtual threads");
        Timing cpuVirtual = Measure.bestOf(repeats, ctx, () -> cpuSlices(
                Executors.newVirtualThreadPerTaskExecutor(), workers, slice));
        ctx.progress(0.35, "CPU-bound: JVM processes");
        List<BurnWorker.Report> lastReports = new ArrayList<>();
        Timing cpuProcesses = Measure.bestOf(repeats, ctx, () -> {
            lastReports.clear();
            lastReports.addAll(BurnWorker.runAll(workers, slice, ctx.children()::track));
        });
        double burnInProcess = lastReports.stream().mapToLong(BurnWorker.Report::burnNanos).max().orElse(0) / 1e9;

        Timing ioOne;
        Timing ioThreadsTiming;
        Timing ioVirtual;
        JsonNode python;
        try (DelayedServer server = DelayedServer.start(ctx.intParam("delay-ms"))) {
            int port = server.port();
            ctx.progress(0.45, "I/O-bound: one thread");
            ioOne = Measure.bestOf(repeats, ctx, () -> {
                for (int i = 0; i < requests; i++) {
                    ctx.checkCancelled();
                    DelayedServer.request(port);
                }
            });
            ctx.progress(0.55, "I/O-bound: platform threads");
            ioThreadsTiming = Measure.bestOf(repeats, ctx, () -> ioRequests(
                    Executors.newFixedThreadPool(ioThreads), requests, port));
            ctx.progress(0.6, "I/O-bound: virtual threads");
            ioVirtual = Measure.bestOf(repeats, ctx, () -> ioRequests(
                    Executors.newVirtualThreadPerTaskExecutor(), requests, port));
            ctx.progress(0.65, "CPython: threads and processes");
            python = python(ctx, workers, requests, ioThreads, port);
        }

        Table.Builder cpu = Table.builder("CPU-bound work (" + ctx.intParam("cpu-ms") + " ms on one JVM thread; "
                        + workers + " workers; best of " + repeats + ")", "model", "runtime", "workers", "best ms",
                "speed-up vs 1 thread")
                .row("1 thread (baseline)", "JVM", 1, cpuOne.bestMillis(), 1.0)
                .row("platform threads", "JVM", workers, cpuThreads.bestMillis(), Measure.speedup(cpuOne, cpuThreads))
                .row("virtual threads", "JVM", workers, cpuVirtual.bestMillis(), Measure.speedup(cpuOne, cpuVirtual))
                .row("JVM processes (start-up included)", "JVM", workers, cpuProcesses.bestMillis(),
                        Measure.speedup(cpuOne, cpuProcesses));
        Table.Builder io = Table.builder("I/O-bound work (" + requests + " requests, " + ctx.intParam("delay-ms")
                        + " ms each; best of " + repeats + ")", "model", "runtime", "threads", "best ms",
                "speed-up vs 1 thread")
                .row("1 thread (baseline)", "JVM", 1, ioOne.bestMillis(), 1.0)
                .row("platform threads", "JVM", ioThreads, ioThreadsTiming.bestMillis(),
                        Measure.speedup(ioOne, ioThreadsTiming))
                .row("virtual threads", "JVM", requests, ioVirtual.bestMillis(), Measure.speedup(ioOne, ioVirtual));

        double ioThreadsSpeedup = Measure.speedup(ioOne, ioThreadsTiming);
        ctx.claim(JVM_IO_THREADS, ioThreads >= 16
                ? Verdict.atLeast(ioThreads + " platform threads vs 1 thread", ioThreadsSpeedup, 8)
                : Verdict.skipped("the claim is about 16 threads; this run used io-threads=" + ioThreads));
        ctx.claim(JVM_IO_VIRTUAL, Verdict.atLeast("virtual threads vs 1 thread", Measure.speedup(ioOne, ioVirtual),
                8));
        if (ctx.requireCores(JVM_CPU_THREADS, 2)) {
            ctx.claim(JVM_CPU_THREADS, Verdict.atLeast(workers + " threads vs 1 thread",
                    Measure.speedup(cpuOne, cpuThreads), 1.5));
        }
        if (ctx.requireCores(JVM_CPU_PROCESSES, 2)) {
            ctx.claim(JVM_CPU_PROCESSES, Verdict.atLeast(String.format(
                    "%d JVM processes (each burned for %.0f ms of its %.0f ms) vs 1 thread", workers,
                    burnInProcess * 1e3, cpuProcesses.bestMillis()), Measure.speedup(cpuOne, cpuProcesses), 1.0));
        }

        if (python != null) {
            JsonNode pc = python.path("cpu");
            double seq = pc.path("sequential_s").asDouble();
            double threads = pc.path("threads_s").asDouble();
            double processes = pc.path("processes_s").asDouble();
            double warm = pc.path("processes_warm_s").asDouble();
            cpu.row("1 thread (baseline)", "CPython", 1, seq * 1e3, 1.0)
                    .row("threads", "CPython", workers, threads * 1e3, seq / threads)
                    .row("processes (a started multiprocessing.Pool)", "CPython", workers, warm * 1e3, seq / warm)
                    .row("processes (multiprocessing.Pool, start-up included)", "CPython", workers, processes * 1e3,
                            seq / processes);
            // Judged on idle cores only: see gil-cpu-threads for why a busy machine makes GIL threads look faster.
            if (ctx.requireCores(PY_CPU_THREADS, 2)) {
                ctx.claim(PY_CPU_THREADS, Verdict.atMost(workers + " CPython threads vs 1 thread", seq / threads,
                        1.2));
            }
            if (ctx.requireCores(PY_CPU_PROCESSES, 2)) {
                ctx.claim(PY_CPU_PROCESSES, Verdict.atLeast(workers + " CPython processes (a started Pool) vs 1"
                        + " thread", seq / warm, 1.3));
            }
            JsonNode pio = python.path("io");
            double pyOne = pio.path("one_thread_s").asDouble();
            double pyThreads = pio.path("threads_s").asDouble();
            io.row("1 thread (baseline)", "CPython", 1, pyOne * 1e3, 1.0)
                    .row("threads", "CPython", ioThreads, pyThreads * 1e3, pyOne / pyThreads);
            ctx.claim(PY_IO_THREADS, ioThreads >= 16
                    ? Verdict.atLeast(ioThreads + " CPython threads vs 1 thread", pyOne / pyThreads, 8)
                    : Verdict.skipped("the claim is about 16 threads; this run used io-threads=" + ioThreads));
        }
        Table cpuTable = cpu.build();
        Table ioTable = io.build();
        ctx.table(cpuTable);
        ctx.table(ioTable);
        ctx.series(speedups("CPU-bound", cpuTable));
        ctx.series(speedups("I/O-bound", ioTable));
        ctx.progress(1, "done");
    }

    /** The speed-up column of a table as a chart series, one point per row. */
    private static Series speedups(String workload, Table table) {
        List<Series.Point> points = new ArrayList<>();
        for (int i = 0; i < table.rows().size(); i++) {
            points.add(new Series.Point(i + 1, ((Number) table.rows().get(i).get(4)).doubleValue()));
        }
        return new Series("Speed-up over one thread", workload, "model (table row)", "× faster", points);
    }

    private static JsonNode python(RunContext ctx, int workers, int requests, int ioThreads, int port)
            throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cpu_io_matrix.py", List.of(), Duration.ofSeconds(120),
                "--cpu-iterations", Integer.toString(ctx.intParam("py-iterations")),
                "--workers", Integer.toString(workers),
                "--port", Integer.toString(port),
                "--requests", Integer.toString(requests),
                "--io-threads", Integer.toString(ioThreads),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)),
                "--io-repeat", Integer.toString(ctx.repeats()));
        return switch (outcome) {
            case ProbeOutcome.Ran ran -> ran.json();
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CPU_THREADS, PY_CPU_PROCESSES, PY_IO_THREADS);
                yield null;
            }
        };
    }

    /** Splits the CPU work into {@code slices} tasks on {@code pool}, waits for all, and closes the pool. */
    private static void cpuSlices(ExecutorService pool, int slices, long rounds) throws Exception {
        try (pool) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < slices; i++) {
                futures.add(pool.submit(() -> CpuWork.consume(rounds)));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }

    /** Sends {@code requests} requests from {@code pool}'s threads, waits for all answers, and closes the pool. */
    private static void ioRequests(ExecutorService pool, int requests, int port) throws Exception {
        try (pool) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                futures.add(pool.submit((Callable<Void>) () -> {
                    DelayedServer.request(port);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }
}
