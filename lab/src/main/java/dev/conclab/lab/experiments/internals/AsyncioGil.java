package dev.conclab.lab.experiments.internals;

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
 * asyncio and the GIL: every coroutine of a loop runs on one thread, so asyncio neither gets around the GIL nor is
 * slowed by it; CPU parallelism comes only from what the loop hands to other threads or processes.
 *
 * <ol>
 *   <li><b>Broken — a CPU-bound coroutine.</b> A heartbeat coroutine wakes every millisecond; another coroutine runs
 *       pure-Python work for {@code burst-ms} without awaiting. The loop runs one step at a time, so the heartbeat
 *       stops for the whole burst: its largest gap is the burst's duration. (The lateness this causes to requests,
 *       and four cures, are measured by {@code cpu-starvation}.)</li>
 *   <li><b>BASELINE</b> for the speed-ups: the work done once, on the loop's own thread.</li>
 *   <li><b>{@code asyncio.to_thread}, pure Python:</b> two halves on two threads of the default
 *       {@code ThreadPoolExecutor}. The GIL lets one run at a time: no speed-up.</li>
 *   <li><b>{@code asyncio.to_thread}, {@code hashlib.sha256} of large buffers:</b> hashlib releases the GIL, so the
 *       halves hash on two cores.</li>
 *   <li><b>{@code run_in_executor(ProcessPoolExecutor)}, pure Python:</b> two processes, two GILs: a speed-up. The
 *       pool is started and warmed before any timing.</li>
 * </ol>
 * Timings are the best of {@code ctx.repeats()} runs, taking turns. The "no speed-up" claim is judged on CPU
 * clocks instead of times: the process's CPU time over the wall time of a split run (the largest of the runs) —
 * a thread waiting for the GIL uses no CPU, so pure Python on two threads stays near 1 core, and noise from other
 * processes can only lower that. The JVM side has no counterpart to measure
 * here: a JVM event loop is one thread too, but its executors' threads compute in parallel because there is no
 * global lock ({@code gil-cpu-threads › jvm-no-gil}, {@code cpu-starvation › jvm-run-in-executor}).
 *
 * <p>Run: {@code ./conclab run asyncio-gil}. Expect the heartbeat's largest gap within a few ms of the burst,
 * about 1.0× and 1 core for {@code to_thread} of pure Python, and about 1.8–1.9× for hashlib threads and the process pool on
 * two idle cores.
 */
public final class AsyncioGil implements Experiment {

    static final ClaimSpec LOOP_STALLS = new ClaimSpec("cpu-coroutine-stalls-loop",
            "Broken: a CPU-bound coroutine that never awaits stalls the whole loop: the largest gap between 1 ms"
                    + " heartbeats is at least 0.9× the burst's duration.");
    static final ClaimSpec TO_THREAD_PYTHON = new ClaimSpec("to-thread-python-no-speedup",
            "asyncio.to_thread gives pure-Python CPU work split over two threads no parallelism: the process uses"
                    + " at most 1.2 cores, because the GIL lets one thread run at a time.");
    static final ClaimSpec TO_THREAD_HASHLIB = new ClaimSpec("to-thread-hashlib-speedup",
            "asyncio.to_thread of hashlib.sha256 on two large buffers is at least 1.5× faster than hashing them in"
                    + " turn, because hashlib releases the GIL (needs 2 cores).");
    static final ClaimSpec PROCESS_POOL = new ClaimSpec("process-pool-speedup",
            "run_in_executor with a ProcessPoolExecutor makes pure-Python CPU work split over two processes at"
                    + " least 1.4× faster (needs 2 cores).");

    @Override
    public String id() {
        return "asyncio-gil";
    }

    @Override
    public String title() {
        return "asyncio and the GIL: one thread for all coroutines; to_thread vs process pools";
    }

    @Override
    public String description() {
        return "Shows that a CPU-bound coroutine stalls the whole asyncio loop, that asyncio.to_thread gives no"
                + " speed-up to pure-Python work but does to hashlib (which releases the GIL), and that a process"
                + " pool does.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("burst-ms", "the CPU-bound coroutine's pure-Python work, in ms", 20, 10_000, 200,
                        100),
                new Param.IntParam("work-ms", "pure-Python work split in two, in ms on one thread", 20, 60_000, 400,
                        150),
                new Param.IntParam("hash-mb", "MiB hashed in two buffers", 2, 4_096, 128, 64));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(LOOP_STALLS, TO_THREAD_PYTHON, TO_THREAD_HASHLIB, PROCESS_POOL);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        ctx.progress(0.05, "CPython: heartbeat beside a CPU-bound coroutine, then to_thread and a process pool");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("asyncio_gil.py", List.of(), Duration.ofSeconds(180),
                "--burst-ms", Integer.toString(ctx.intParam("burst-ms")),
                "--work-ms", Integer.toString(ctx.intParam("work-ms")),
                "--hash-mb", Integer.toString(ctx.intParam("hash-mb")),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, LOOP_STALLS, TO_THREAD_PYTHON, TO_THREAD_HASHLIB, PROCESS_POOL);
            case ProbeOutcome.Ran ran -> judge(ctx, ran.json());
        }
        ctx.progress(1, "done");
    }

    private static void judge(RunContext ctx, JsonNode json) {
        JsonNode beat = json.path("heartbeat");
        double burst = beat.path("burst_ms").asDouble();
        double maxGap = beat.path("max_gap_ms").asDouble();
        ctx.table(Table.builder("A 1 ms heartbeat coroutine beside a CPU-bound coroutine", "burst ms",
                        "largest heartbeat gap ms", "median gap outside the burst ms")
                .row(burst, maxGap, beat.path("median_gap_ms").asDouble())
                .build());
        ctx.claim(LOOP_STALLS, Verdict.atLeast(String.format("largest heartbeat gap %.1f ms vs burst %.1f ms", maxGap,
                burst), maxGap / burst, 0.9));

        JsonNode speedups = json.path("speedups");
        Table.Builder table = Table.builder(String.format("Work split in two, awaited with asyncio.gather (best of %d;"
                        + " %d iterations of pure Python, %d MiB hashed)", ctx.repeats(),
                json.path("iterations").asLong(), json.path("hash_mb").asInt()),
                "variant", "on the loop thread ms", "split in two ms", "speed-up", "cores used (this process)");
        String[][] rows = {
                {"to-thread-python", "asyncio.to_thread × 2, pure Python"},
                {"to-thread-hashlib", "asyncio.to_thread × 2, hashlib.sha256"},
                {"process-python", "run_in_executor(ProcessPoolExecutor) × 2, pure Python"}};
        for (String[] row : rows) {
            JsonNode s = speedups.path(row[0]);
            table.row(row[1], s.path("baseline_s").asDouble() * 1e3, s.path("split_s").asDouble() * 1e3,
                    s.path("speedup").asDouble(), s.path("cores").isNumber() ? s.path("cores").asDouble() : "—");
        }
        ctx.table(table.build());
        JsonNode pyThreads = speedups.path("to-thread-python");
        double cores = pyThreads.path("cores").asDouble();
        ctx.claim(TO_THREAD_PYTHON, Verdict.check(cores <= 1.2, String.format("to_thread × 2, pure Python: the"
                + " process used at most %.2f cores (needs ≤ 1.20); speed-up over the loop thread %.2f×", cores,
                pyThreads.path("speedup").asDouble())));
        if (ctx.requireCores(TO_THREAD_HASHLIB, 2)) {
            ctx.claim(TO_THREAD_HASHLIB, Verdict.atLeast("to_thread × 2 vs the loop thread, hashlib",
                    speedups.path("to-thread-hashlib").path("speedup").asDouble(), 1.5));
        }
        if (ctx.requireCores(PROCESS_POOL, 2)) {
            ctx.claim(PROCESS_POOL, Verdict.atLeast("process pool × 2 vs the loop thread, pure Python",
                    speedups.path("process-python").path("speedup").asDouble(), 1.4));
        }
    }
}
