package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What {@code async def} and {@code await} do, observed in CPython, and the JVM's answer to the same problem.
 *
 * <p>CPython, through the {@code coroutines.py} probe:
 * <ol>
 *   <li><b>BASELINE — calling is not running.</b> Calling an {@code async def} function returns a coroutine object
 *       and runs none of its body: a side effect of its first line has not happened. {@code asyncio.run} then runs
 *       it.</li>
 *   <li><b>The protocol underneath.</b> A coroutine is a generator-like object (PEP 492 built it on PEP 342's
 *       generator protocol). Driven by hand, {@code send(None)} runs it to its first {@code await} of an unfinished
 *       Future and <i>yields that Future</i> — that is how a coroutine tells the event loop what it waits for; once
 *       the Future has a result, the next {@code send} resumes it, and its {@code return} arrives as
 *       {@code StopIteration.value}.</li>
 *   <li><b>Broken — never awaited.</b> A coroutine created and dropped produces
 *       {@code RuntimeWarning: coroutine ... was never awaited}, and its body never runs. {@code await 42} raises
 *       {@code TypeError}: only awaitables can be awaited.</li>
 *   <li><b>Many waits, one thread.</b> N coroutines that each {@code await asyncio.sleep(D)} finish in about D, not
 *       N×D. The same fan-out on OS threads (fewer of them) is shown beside it, and the memory of a pending task
 *       (tracemalloc) against the memory a blocked thread adds (resident set: a thread's stack is OS memory that
 *       tracemalloc cannot see).</li>
 * </ol>
 * JVM: Java has no coroutines in the language — no {@code async}, no {@code await}. Its answer is the virtual thread
 * (JEP 444, Java 21): plain blocking code whose frames the JVM unmounts into an internal continuation
 * ({@code jdk.internal.vm.Continuation}) when it blocks. N virtual threads that each sleep D finish in about D. The
 * callback style is {@link CompletableFuture}: N chains of three stages, each stage delayed D by
 * {@link CompletableFuture#delayedExecutor} and run on ONE thread, finish in about 3×D, because a waiting stage holds
 * no thread.
 *
 * <p>Run: {@code ./conclab run coroutines -p tasks=100000}. Expect the CPython checks to hold on every run, the
 * fan-outs to take a little over D (3×D for the chains), and a task to cost about a kilobyte against about ten for a
 * thread. Without a CPython 3 the CPython claims are skipped with the reason.
 */
public final class Coroutines implements Experiment {

    static final ClaimSpec PY_CALL_RUNS_NOTHING = new ClaimSpec("py-call-runs-nothing",
            "Calling an async def function returns a coroutine object and runs none of its body; asyncio.run of that"
                    + " object runs it.");
    static final ClaimSpec PY_SEND_PROTOCOL = new ClaimSpec("py-send-protocol",
            "Driven by hand, send(None) runs a coroutine to its first await and yields the unfinished Future it waits"
                    + " for; once the Future has a result, the next send raises StopIteration carrying the return"
                    + " value.");
    static final ClaimSpec PY_NEVER_AWAITED = new ClaimSpec("py-never-awaited",
            "A coroutine created and dropped without being awaited produces RuntimeWarning: coroutine ... was never"
                    + " awaited.");
    static final ClaimSpec PY_AWAIT_NON_AWAITABLE = new ClaimSpec("py-await-non-awaitable",
            "await on an object that is not awaitable (await 42) raises TypeError.");
    static final ClaimSpec PY_FANOUT = new ClaimSpec("py-fanout",
            "N coroutines that each await asyncio.sleep(D) all finish in under 3×D, not N×D.");
    static final ClaimSpec PY_TASK_MEMORY = new ClaimSpec("py-task-memory",
            "A pending asyncio task takes at least 4× less memory than a blocked OS thread adds.");
    static final ClaimSpec JVM_VIRTUAL_FANOUT = new ClaimSpec("jvm-virtual-fanout",
            "N virtual threads that each sleep D all finish in under 3×D.");
    static final ClaimSpec JVM_FUTURE_CHAIN = new ClaimSpec("jvm-future-chain",
            "N CompletableFuture chains of three stages, each stage delayed D by delayedExecutor and run on one"
                    + " thread, all finish in between 3×D and 5×D.");

    private static final long GIVE_UP_MILLIS = 30_000;

    @Override
    public String id() {
        return "coroutines";
    }

    @Override
    public String title() {
        return "async def and await: what a coroutine is, how it is driven, and what it costs, beside virtual threads";
    }

    @Override
    public String description() {
        return "Shows in CPython that calling an async def runs nothing, drives a coroutine by hand with send(None),"
                + " captures the never-awaited warning, times N coroutines sleeping D and weighs a task against a"
                + " thread; on the JVM, N virtual threads sleeping D and CompletableFuture chains on delayedExecutor.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "coroutines and virtual threads that wait at once (N)", 1, 200_000,
                        10_000, 10_000),
                new Param.IntParam("threads", "OS threads for the CPython contrast", 1, 5_000, 1_000, 500),
                new Param.IntParam("delay-ms", "how long each of them waits, in ms (D)", 20, 2_000, 200, 200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_CALL_RUNS_NOTHING, PY_SEND_PROTOCOL, PY_NEVER_AWAITED, PY_AWAIT_NON_AWAITABLE, PY_FANOUT,
                PY_TASK_MEMORY, JVM_VIRTUAL_FANOUT, JVM_FUTURE_CHAIN);
    }

    /** What the probe measured; times in ms, memory in bytes per task or thread. */
    private record PySide(double coroutinesMs, double threadsMs, double taskTraced, double taskRss,
                          double threadTraced, double threadRss) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int tasks = ctx.intParam("tasks");
        int threads = ctx.intParam("threads");
        int delay = ctx.intParam("delay-ms");
        int repeats = ctx.repeats();

        ctx.progress(0.02, "JVM: " + tasks + " virtual threads sleeping " + delay + " ms");
        Timing virtual = Measure.bestOf(repeats, ctx, () -> virtualSleepers(tasks, delay));
        ctx.claim(JVM_VIRTUAL_FANOUT, Verdict.check(virtual.bestMillis() < 3.0 * delay, String.format(
                "%d virtual threads each sleeping %d ms: all done in %.1f ms, best of %d (needs < %d ms = 3×D; one"
                        + " after another would take %.0f s)", tasks, delay, virtual.bestMillis(), repeats, 3 * delay,
                tasks * (double) delay / 1e3)));

        ctx.progress(0.2, "JVM: " + tasks + " CompletableFuture chains");
        Set<String> stageThreads = ConcurrentHashMap.newKeySet();
        Timing chains;
        try (ExecutorService one = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("future-chain-stages").factory())) {
            chains = Measure.bestOf(repeats, ctx, () -> futureChains(one, tasks, delay, stageThreads));
        }
        ctx.claim(JVM_FUTURE_CHAIN, Verdict.check(chains.bestMillis() >= 3.0 * delay
                        && chains.bestMillis() < 5.0 * delay, String.format(
                "%d chains of three stages delayed %d ms each: all done in %.1f ms, best of %d (needs %d ms = 3×D"
                        + " ≤ t < %d ms = 5×D); stages ran on %d thread(s)", tasks, delay, chains.bestMillis(),
                repeats, 3 * delay, 5 * delay, stageThreads.size())));

        ctx.progress(0.4, "CPython: coroutines.py");
        PySide py = python(ctx, tasks, threads, delay, repeats);

        Table.Builder fanout = Table.builder("Many waits of D = " + delay + " ms at once (best of " + repeats + ")",
                "runtime", "how", "count", "all done after, ms", "× D");
        if (py != null) {
            fanout.row("CPython", "coroutines awaiting asyncio.sleep(D), gathered", tasks, py.coroutinesMs(),
                            py.coroutinesMs() / delay)
                    .row("CPython", "OS threads calling time.sleep(D)", threads, py.threadsMs(),
                            py.threadsMs() / delay);
        }
        fanout.row("JVM", "virtual threads calling Thread.sleep(D)", tasks, virtual.bestMillis(),
                        virtual.bestMillis() / delay)
                .row("JVM", "CompletableFuture chains, 3 stages × delayedExecutor(D), one thread", tasks,
                        chains.bestMillis(), chains.bestMillis() / delay);
        ctx.table(fanout.build());
        if (py != null) {
            ctx.table(Table.builder("CPython: memory of one waiting task and one blocked thread, bytes", "what",
                            "tracemalloc (Python heap)", "resident set growth (all memory)")
                    .row("asyncio task awaiting an Event (" + tasks + " of them)", py.taskTraced(), py.taskRss())
                    .row("thread blocked on threading.Event (" + threads + " of them)", py.threadTraced(),
                            py.threadRss())
                    .build());
        }
        ctx.progress(1, "done");
    }

    /** Starts {@code tasks} virtual threads that each sleep {@code delay} ms and waits for all of them. */
    private static void virtualSleepers(int tasks, int delay) throws InterruptedException {
        List<Thread> sleepers = new ArrayList<>(tasks);
        for (int i = 0; i < tasks; i++) {
            sleepers.add(Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : sleepers) {
            t.join();
        }
    }

    /**
     * {@code tasks} chains of three stages, each stage run on {@code one} after a delay of {@code delay} ms; waits
     * for them all. While a stage waits for its delay, no thread is held for it: that is the callback model.
     */
    private static void futureChains(ExecutorService one, int tasks, int delay, Set<String> stageThreads)
            throws Exception {
        Executor later = CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, one);
        CompletableFuture<?>[] chains = new CompletableFuture<?>[tasks];
        for (int i = 0; i < tasks; i++) {
            chains[i] = CompletableFuture.supplyAsync(() -> step(stageThreads, 0), later)
                    .thenApplyAsync(x -> step(stageThreads, x), later)
                    .thenApplyAsync(x -> step(stageThreads, x), later);
        }
        CompletableFuture.allOf(chains).get(3L * delay + GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static int step(Set<String> threads, int x) {
        threads.add(Thread.currentThread().getName());
        return x + 1;
    }

    private static PySide python(RunContext ctx, int tasks, int threads, int delay, int repeats) throws Exception {
        long budget = 60_000L + 2L * repeats * delay + tasks / 5;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("coroutines.py", List.of(), Duration.ofMillis(budget),
                "--tasks", Integer.toString(tasks), "--threads", Integer.toString(threads),
                "--delay-ms", Integer.toString(delay), "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CALL_RUNS_NOTHING, PY_SEND_PROTOCOL, PY_NEVER_AWAITED, PY_AWAIT_NON_AWAITABLE,
                        PY_FANOUT, PY_TASK_MEMORY);
                ctx.note("CPython side skipped: " + missing.reason());
                return null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in " + String.format("%.1f s",
                        ran.seconds()));
                JsonNode lazy = json.path("lazy");
                ctx.claim(PY_CALL_RUNS_NOTHING, Verdict.check(lazy.path("iscoroutine").asBoolean(false)
                                && lazy.path("side_effects_after_call").asInt(-1) == 0
                                && lazy.path("side_effects_after_run").asInt(-1) == 1, String.format(
                        "greet() returned a %s (inspect.iscoroutine: %s); side effects after the call: %d (needs 0);"
                                + " after asyncio.run: %d (needs 1), result %s", lazy.path("type").asText(),
                        lazy.path("iscoroutine").asBoolean(), lazy.path("side_effects_after_call").asInt(-1),
                        lazy.path("side_effects_after_run").asInt(-1), lazy.path("result"))));
                JsonNode protocol = json.path("protocol");
                ctx.claim(PY_SEND_PROTOCOL, Verdict.check(
                        protocol.path("first_send_yielded_the_future").asBoolean(false)
                                && protocol.path("steps_at_suspension").size() == 1
                                && protocol.path("stop_iteration").asBoolean(false)
                                && protocol.path("stop_value").asInt(-1) == 42, String.format(
                        "first send(None) yielded the awaited Future itself: %s; body steps done at that point: %s;"
                                + " after set_result(21) the next send raised StopIteration: %s, with value %s"
                                + " (needs true, [started], true, 42)",
                        protocol.path("first_send_yielded_the_future").asBoolean(),
                        protocol.path("steps_at_suspension"), protocol.path("stop_iteration").asBoolean(),
                        protocol.path("stop_value"))));
                JsonNode never = json.path("never_awaited");
                ctx.claim(PY_NEVER_AWAITED, Verdict.check(never.path("runtime_warning").asBoolean(false),
                        "warnings captured: " + never.path("warnings")));
                JsonNode bad = json.path("bad_await");
                ctx.claim(PY_AWAIT_NON_AWAITABLE, Verdict.check("TypeError".equals(bad.path("raised").asText()),
                        "await 42 raised " + bad.path("raised").asText() + ": " + bad.path("message").asText()));
                JsonNode fan = json.path("fanout");
                JsonNode memory = json.path("memory");
                PySide py = new PySide(number(fan, "coroutines_s") * 1e3, number(fan, "threads_s") * 1e3,
                        number(memory, "task_traced_bytes"), number(memory, "task_rss_bytes"),
                        number(memory, "thread_traced_bytes"), number(memory, "thread_rss_bytes"));
                ctx.claim(PY_FANOUT, Verdict.check(py.coroutinesMs() < 3.0 * delay, String.format(
                        "%d coroutines each awaiting asyncio.sleep(%d ms): all done in %.1f ms, best of %d (needs < %d"
                                + " ms = 3×D; one after another would take %.0f s)", tasks, delay, py.coroutinesMs(),
                        repeats, 3 * delay, tasks * (double) delay / 1e3)));
                // The task's larger measure against the thread's resident growth: a thread's stack is invisible
                // to tracemalloc, a task's objects are all on the Python heap.
                double task = Math.max(py.taskTraced(), py.taskRss());
                if (py.threadRss() <= 0) {
                    ctx.claim(PY_TASK_MEMORY, Verdict.skipped("this system has no /proc/self/statm, so the probe"
                            + " cannot measure a thread's resident memory"));
                    return py;
                }
                ctx.claim(PY_TASK_MEMORY, Verdict.atLeast(String.format(
                        "a blocked thread adds %.0f B of resident memory; a pending task %.0f B (the larger of"
                                + " tracemalloc %.0f B and resident %.0f B)", py.threadRss(), task, py.taskTraced(),
                        py.taskRss()), py.threadRss() / task, 4.0));
                return py;
            }
        }
    }

    private static double number(JsonNode json, String key) {
        JsonNode value = json.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe coroutines.py printed no number at " + key + ": " + json);
        }
        return value.asDouble();
    }
}
