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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * {@code Pool.map} versus {@code Pool.apply}: which calls block, which keep input order, and what chunking buys —
 * in CPython's {@code multiprocessing.Pool} and in a JVM {@link ExecutorService} of platform threads.
 *
 * <ol>
 *   <li><b>BASELINE — ordered results.</b> Task 0 is forced to finish last (CPython: it waits on an
 *       {@code Event} the parent sets only after every other task has finished; JVM: on a latch the others count
 *       down). {@code map} is not ready and {@code imap} yields nothing until task 0 is done, then both give results
 *       in input order; {@code imap_unordered} yields the other results first. {@code invokeAll} likewise returns
 *       the futures in task order.</li>
 *   <li><b>Broken — a loop of {@code apply}.</b> {@code Pool.apply} blocks until its one result is back, so N calls
 *       in a loop run one after another (≈ N × task time); {@code apply_async} for all, then {@code get()} each, runs
 *       them at once. On the JVM the same mistake is {@code submit(task).get()} in a loop. Tasks sleep, so the
 *       contrast needs no spare cores.</li>
 *   <li><b>Chunking.</b> Many tiny tasks through {@code map} with {@code chunksize=1} (one pickled message per task),
 *       the default ({@code divmod(len, 4 × processes)}, plus one if there is a rest — read from CPython's own
 *       source), and one chunk per process.</li>
 * </ol>
 * The toolkit's process pool (issue 5) is the JVM's counterpart of {@code Pool} itself; here the point is the calling
 * pattern, which threads show as well.
 *
 * <p>Stateless; every executor is closed and every probe pool joined before {@code run} returns.
 *
 * <p>Run: {@code ./conclab run pool-map-vs-apply}. Expect the apply loop ≈ N × task time and the async form ≈ one
 * task time, on both runtimes, and chunksize 1 tens of times dearer per task than the default.
 */
public final class PoolMapVsApply implements Experiment {

    static final ClaimSpec PY_MAP_ORDERED = new ClaimSpec("py-map-ordered",
            "With the first task forced to finish last, Pool.map is not ready and Pool.imap yields nothing until it"
                    + " finishes, then both give results in input order; Pool.imap_unordered yields the other"
                    + " results first.");
    static final ClaimSpec PY_APPLY_SERIAL = new ClaimSpec("py-apply-serial",
            "A loop of Pool.apply runs the tasks one after another: at least 2.5× slower than apply_async for all"
                    + " of them, then get() each.");
    static final ClaimSpec PY_CHUNKSIZE = new ClaimSpec("py-chunksize",
            "Pool.map of many tiny tasks costs at least 5× more per task with chunksize=1 than with the default"
                    + " chunksize.");
    static final ClaimSpec PY_DEFAULT_CHUNKSIZE = new ClaimSpec("py-default-chunksize",
            "CPython's Pool.map computes its default chunksize as divmod(len(iterable), 4 × processes), plus one"
                    + " when there is a remainder.");
    static final ClaimSpec JVM_INVOKEALL_ORDERED = new ClaimSpec("jvm-invokeall-ordered",
            "ExecutorService.invokeAll returns the futures in task order even when the first task finishes last.");
    static final ClaimSpec JVM_GET_LOOP_SERIAL = new ClaimSpec("jvm-get-loop-serial",
            "submit(task).get() in a loop runs the tasks one after another: at least 2.5× slower than submitting"
                    + " all of them, then get() each.");

    private static final long GIVE_UP_SECONDS = 20;

    @Override
    public String id() {
        return "pool-map-vs-apply";
    }

    @Override
    public String title() {
        return "Pool.map vs Pool.apply: ordering, blocking and chunksize, beside an ExecutorService";
    }

    @Override
    public String description() {
        return "Forces the first task to finish last and shows that Pool.map, Pool.imap and invokeAll keep input"
                + " order while imap_unordered does not; times a loop of Pool.apply (and of submit().get()) against"
                + " apply_async (and submit-all-then-get); times tiny tasks at chunksize 1, default and large.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "tasks in the apply loop (N)", 2, 16, 4, 4),
                new Param.IntParam("task-ms", "how long each apply task sleeps", 5, 1_000, 50, 30),
                new Param.IntParam("tiny", "tiny tasks in the chunksize part", 100, 200_000, 20_000, 4_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_MAP_ORDERED, PY_APPLY_SERIAL, PY_CHUNKSIZE, PY_DEFAULT_CHUNKSIZE, JVM_INVOKEALL_ORDERED,
                JVM_GET_LOOP_SERIAL);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("tasks");
        int taskMs = ctx.intParam("task-ms");
        Table.Builder order = Table.builder("Results with task 0 forced to finish last", "runtime", "call",
                "waited for task 0?", "results in the order returned");
        Table.Builder timing = Table.builder("N = " + n + " tasks of " + taskMs + " ms (best of several)", "runtime",
                "calling pattern", "ms", "× one task");
        ctx.progress(0.05, "JVM: invokeAll with the first task last");
        jvmOrder(ctx, n, order);
        ctx.progress(0.15, "JVM: submit().get() in a loop vs submit all");
        jvmTiming(ctx, n, taskMs, timing);
        ctx.progress(0.4, "CPython: mp_map_apply.py");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("mp_map_apply.py", List.of(), Duration.ofSeconds(90),
                "--apply-tasks", Integer.toString(n), "--task-ms", Integer.toString(taskMs), "--tiny",
                Integer.toString(ctx.intParam("tiny")), "--repeat", ctx.quick() ? "3" : "5");
        Table.Builder chunks = Table.builder("Pool.map of tiny tasks (x + 1) by chunksize", "chunksize", "value",
                "µs per task", "× default");
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_MAP_ORDERED, PY_APPLY_SERIAL, PY_CHUNKSIZE, PY_DEFAULT_CHUNKSIZE);
                ctx.note("CPython side skipped: " + missing.reason());
                chunks.row("—", "CPython unavailable", "—", "—");
            }
            case ProbeOutcome.Ran ran -> python(ctx, ran, n, taskMs, order, timing, chunks);
        }
        ctx.table(order.build());
        ctx.table(timing.build());
        ctx.table(chunks.build());
        ctx.progress(1, "done");
    }

    // ---- JVM ------------------------------------------------------------------------------------------------------

    private static void jvmOrder(RunContext ctx, int n, Table.Builder table) throws Exception {
        CountDownLatch othersDone = new CountDownLatch(n - 1);
        Queue<Integer> completion = new ConcurrentLinkedQueue<>();
        List<Callable<Integer>> tasks = IntStream.range(0, n).<Callable<Integer>>mapToObj(i -> () -> {
            if (i == 0 && !othersDone.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the other tasks never finished");
            }
            completion.add(i);
            if (i != 0) {
                othersDone.countDown();
            }
            return i;
        }).toList();
        List<Integer> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            for (Future<Integer> f : pool.invokeAll(tasks)) {
                results.add(f.resultNow());
            }
        }
        List<Integer> inOrder = IntStream.range(0, n).boxed().toList();
        List<Integer> completed = List.copyOf(completion);
        table.row("JVM", "ExecutorService.invokeAll (platform threads)", "yes (returns when all are done)",
                results + " (completed " + completed + ")");
        ctx.claim(JVM_INVOKEALL_ORDERED, Verdict.check(results.equals(inOrder) && completed.getLast() == 0,
                "invokeAll gave " + results + " while the tasks completed in the order " + completed
                        + " (needs " + inOrder + " with task 0 last)"));
    }

    private static void jvmTiming(RunContext ctx, int n, int taskMs, Table.Builder table) throws Exception {
        Callable<Integer> task = () -> {
            Thread.sleep(taskMs);
            return taskMs;
        };
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            Timing loop = Measure.bestOf(ctx.repeats(), ctx, () -> {
                for (int i = 0; i < n; i++) {
                    pool.submit(task).get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
                }
            });
            Timing all = Measure.bestOf(ctx.repeats(), ctx, () -> {
                List<Future<Integer>> futures = IntStream.range(0, n).mapToObj(i -> pool.submit(task)).toList();
                for (Future<Integer> f : futures) {
                    f.get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
                }
            });
            table.row("JVM", "Broken: submit(task).get() in a loop", loop.bestMillis(), loop.bestMillis() / taskMs);
            table.row("JVM", "submit all, then get() each", all.bestMillis(), all.bestMillis() / taskMs);
            ctx.claim(JVM_GET_LOOP_SERIAL, Verdict.atLeast("loop of submit().get() ÷ submit all then get",
                    Measure.speedup(loop, all), 2.5));
        }
    }

    // ---- CPython --------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, ProbeOutcome.Ran ran, int n, int taskMs, Table.Builder order,
                               Table.Builder timing, Table.Builder chunks) {
        JsonNode json = ran.json();
        String py = "CPython " + ran.interpreter().version();
        JsonNode o = json.path("order");
        int tasks = o.path("map").path("results").size();
        List<Integer> inOrder = IntStream.range(0, tasks).boxed().toList();
        List<Integer> othersFirst = new ArrayList<>(inOrder.subList(1, tasks));
        othersFirst.add(0);
        boolean holds = tasks >= 2;
        StringBuilder evidence = new StringBuilder();
        for (String call : List.of("map", "imap", "imap_unordered")) {
            JsonNode c = o.path(call);
            List<Integer> results = ints(c.path("results"));
            boolean waited = c.path("blocked_until_release").asBoolean();
            order.row(py, "Pool." + call, waited ? "yes" : "no (" + c.path("early").asInt() + " results before it)",
                    results.toString());
            boolean expectWait = !call.equals("imap_unordered");
            holds &= waited == expectWait && results.equals(expectWait ? inOrder : othersFirst);
            evidence.append(String.format("%s: waited %s, gave %s; ", call, waited, results));
        }
        ctx.claim(PY_MAP_ORDERED, Verdict.check(holds, evidence + "needs map and imap to wait and give " + inOrder
                + ", imap_unordered not to wait and give " + othersFirst));

        JsonNode apply = json.path("apply");
        double loopMs = apply.path("apply_loop_s").asDouble() * 1e3;
        double asyncMs = apply.path("apply_async_s").asDouble() * 1e3;
        timing.row(py, "Broken: pool.apply in a loop", loopMs, loopMs / taskMs);
        timing.row(py, "apply_async for all, then get() each", asyncMs, asyncMs / taskMs);
        ctx.claim(PY_APPLY_SERIAL, Verdict.atLeast("loop of Pool.apply ÷ apply_async then get (" + n + " tasks)",
                loopMs / asyncMs, 2.5));

        JsonNode ch = json.path("chunks");
        JsonNode us = ch.path("us_per_task");
        double defaultUs = us.path("default").asDouble();
        for (String k : List.of("one", "default", "large")) {
            chunks.row(k, ch.path("chunksize").path(k).asInt(), us.path(k).asDouble(), us.path(k).asDouble()
                    / defaultUs);
        }
        boolean correct = ch.path("correct").asBoolean();
        ctx.claim(PY_CHUNKSIZE, correct ? Verdict.atLeast("µs per task at chunksize 1 ÷ at the default ("
                + ch.path("tasks").asInt() + " tasks, " + ch.path("processes").asInt() + " processes)",
                us.path("one").asDouble() / defaultUs, 5) : Verdict.check(false, "Pool.map gave wrong results"));
        ctx.claim(PY_DEFAULT_CHUNKSIZE, Verdict.check(json.path("default_chunksize_rule").asBoolean(),
                "the source of multiprocessing.pool.Pool._map_async in " + py + " contains"
                        + " \"divmod(len(iterable), len(self._pool) * 4)\" and \"chunksize += 1\": "
                        + json.path("default_chunksize_rule").asBoolean()));
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asInt()));
        return out;
    }
}
