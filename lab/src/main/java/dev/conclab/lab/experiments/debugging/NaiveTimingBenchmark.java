package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;

/**
 * Benchmarking threads against processes: one naive cold timing of each, against warm-up, repetitions in turns and
 * the best run.
 *
 * <p><b>Broken:</b> time each variant once, creating its pool inside the timing, threads first. <b>Correct:</b>
 * create both pools first, warm them up with one untimed round, then time the variants in turns and keep the best of
 * each. The work is CPU-bound pure Python in CPython, where processes are the variant that should win on two cores.
 *
 * <p>The naive ordering error is forced, not lucky: the probe first measures what starting a process pool costs here
 * (spawn start method) and sizes the work so that one thread needs about that long. A cold process pool then pays
 * its start-up plus half the work, more than the threads need for all of it, on any machine.
 *
 * <p>Run: {@code ./conclab run naive-timing}. The correct ranking needs two cores running at once.
 */
public final class NaiveTimingBenchmark implements Experiment {

    static final ClaimSpec PY_NAIVE_WRONG_ORDER = new ClaimSpec("py-naive-wrong-order",
            "In CPython, one cold timing of each variant, pool start-up included, ranks threads ahead of processes"
                    + " on CPU-bound pure Python.");
    static final ClaimSpec PY_MEASURED_RIGHT_ORDER = new ClaimSpec("py-measured-right-order",
            "In CPython, warmed-up pools timed in turns, best of several runs, rank processes at least 1.3× ahead"
                    + " of threads on the same work (needs 2 cores).");

    @Override
    public String id() {
        return "naive-timing";
    }

    @Override
    public String title() {
        return "Benchmarking threads vs processes: a naive cold timing vs warm-up and repetitions";
    }

    @Override
    public String description() {
        return "Times CPython threads and processes on the same CPU-bound work once, cold, pool start-up included,"
                + " and then properly (warm pools, in turns, best of several runs), and compares the rankings.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("workers", "threads or processes per pool", 2, 16, 2, 2));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_NAIVE_WRONG_ORDER, PY_MEASURED_RIGHT_ORDER);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.1, "CPython: start-up cost, naive timings, measured timings");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("naive_timing.py", List.of(), Duration.ofSeconds(120),
                "--workers", Integer.toString(ctx.intParam("workers")),
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_NAIVE_WRONG_ORDER, PY_MEASURED_RIGHT_ORDER);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double naiveThreads = json.path("naive").path("threads_s").asDouble();
                double naiveProcesses = json.path("naive").path("processes_s").asDouble();
                double threads = json.path("measured").path("threads_s").asDouble();
                double processes = json.path("measured").path("processes_s").asDouble();
                int workers = json.path("workers").asInt();
                ctx.table(Table.builder(String.format("CPython, %d iterations of pure-Python work on %d workers"
                                        + " (process-pool start-up: %.0f ms)", json.path("iterations").asLong(),
                                workers, json.path("startup_s").asDouble() * 1e3),
                                "measurement", "threads ms", "processes ms", "processes vs threads")
                        .row("one cold timing each, pool start included (broken)", naiveThreads * 1e3,
                                naiveProcesses * 1e3, naiveThreads / naiveProcesses)
                        .row("warm pools, in turns, best of " + PythonProbes.repeats(ctx), threads * 1e3,
                                processes * 1e3, threads / processes)
                        .build());
                ctx.claim(PY_NAIVE_WRONG_ORDER, Verdict.check(naiveThreads < naiveProcesses, String.format(
                        "naive: threads %.0f ms, processes %.0f ms", naiveThreads * 1e3, naiveProcesses * 1e3)));
                if (ctx.requireCores(PY_MEASURED_RIGHT_ORDER, 2)) {
                    ctx.claim(PY_MEASURED_RIGHT_ORDER, Verdict.atLeast("processes vs threads, warm, best of "
                            + PythonProbes.repeats(ctx), threads / processes, 1.3));
                }
            }
        }
        ctx.progress(1, "done");
    }
}
