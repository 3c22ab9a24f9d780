package dev.conclab.lab.experiments.asyncio;

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
import dev.conclab.toolkit.loop.Coroutine;
import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.LoopStall;
import dev.conclab.toolkit.loop.Outcome;
import dev.conclab.toolkit.loop.SelectorEventLoop;
import dev.conclab.toolkit.loop.SlowCallback;
import dev.conclab.toolkit.loop.Step;
import dev.conclab.toolkit.loop.Task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * asyncio's event loop taken apart, part by part, and the same small programs on the toolkit's
 * {@link SelectorEventLoop}, a loop of the same shape written for these lessons: a FIFO ready queue, a timer heap
 * and a selector, served by one thread.
 * <ol>
 *   <li><b>The ready queue.</b> One callback schedules N callbacks with {@code call_soon}; the first of them
 *       schedules one more. They run 0, 1, …, N−1 — and the extra one only after the whole batch, because one pass
 *       of the loop runs exactly the callbacks that were ready when the pass began.</li>
 *   <li><b>The timer heap.</b> Four timers scheduled out of order (c at +30 ms, a1 at +10 ms, b at +20 ms, a2 at the
 *       very same deadline as a1) run a1, a2, b, c: deadline order, and first-scheduled first among equal
 *       deadlines.</li>
 *   <li><b>The only door from another thread.</b> A worker thread schedules a callback with
 *       {@code call_soon_threadsafe} while the loop waits in its selector; the post wakes the loop, and the callback
 *       runs on the loop's thread, not the worker's. The worker first tries a plain {@code call_soon}: asyncio
 *       accepts it outside debug mode (it checks the thread only in debug mode, and the callback then waits for
 *       something else to wake the loop); the toolkit loop refuses it with an {@code IllegalStateException}.</li>
 *   <li><b>Tasks.</b> {@code create_task(A)} and {@code create_task(B)} run none of A's or B's code: "created A" and
 *       "created B" are logged first. Then each task runs one step — from one {@code await} to the next — at a time,
 *       and the two alternate only at their awaits: A:0, B:0, A:1, B:1, A:2, B:2, never a step cut in two.</li>
 *   <li><b>Broken — a blocking callback.</b> A callback that calls {@code time.sleep(B)} ({@code Thread.sleep} on
 *       the JVM) and a timer are due at the same moment, the blocking one first. The timer runs late by about B:
 *       nothing runs while a callback runs. BASELINE: the same timer without the blocking callback is on time.</li>
 *   <li><b>Debug mode sees it.</b> With {@code asyncio.run(main(), debug=True)}, a callback that runs longer than
 *       {@code loop.slow_callback_duration} (0.1 s) is logged as "Executing &lt;Handle …&gt; took 0.150 seconds";
 *       the probe captures the {@code asyncio} logger. The toolkit loop in debug mode reports the same, with the
 *       callback's name and duration.</li>
 *   <li><b>A watchdog sees it as it happens</b> (toolkit only; asyncio has none built in). A callback waits on a
 *       latch that only the watchdog's report opens, so the loop is stuck for sure; the watchdog, a daemon thread
 *       started with the loop, notices the callback running past its threshold (50 ms) and reports the loop
 *       thread's stack, whose first application frame is the method that waits.</li>
 * </ol>
 * Parts 1–4 are orderings fixed by the loop's rules, so they come out the same on every run. Part 5's numbers are
 * the smallest lateness of several runs.
 *
 * <p>Run: {@code ./conclab run loop-anatomy -p block-ms=500}. Expect identical orderings on both sides, a timer late
 * by a little over B behind the blocking callback (and by well under a millisecond without it), and one
 * "Executing … took" report on each side.
 */
public final class LoopAnatomy implements Experiment {

    static final ClaimSpec PY_FIFO = new ClaimSpec("py-fifo",
            "In asyncio, call_soon callbacks run in the order they were scheduled, in one pass of the loop: a"
                    + " callback that one of them schedules runs after the whole batch.");
    static final ClaimSpec JVM_FIFO = new ClaimSpec("jvm-fifo",
            "On the toolkit loop, callSoon callbacks run in the same order and the same single pass.");
    static final ClaimSpec PY_TIMERS = new ClaimSpec("py-timers",
            "asyncio runs timers in deadline order, and timers with the same deadline in the order they were"
                    + " scheduled.");
    static final ClaimSpec JVM_TIMERS = new ClaimSpec("jvm-timers",
            "The toolkit loop runs its timers in the same order.");
    static final ClaimSpec PY_THREADSAFE = new ClaimSpec("py-threadsafe",
            "A callback that another thread schedules with call_soon_threadsafe runs on the loop's thread, not the"
                    + " caller's.");
    static final ClaimSpec JVM_THREADSAFE = new ClaimSpec("jvm-threadsafe",
            "On the toolkit loop, a callSoonThreadsafe callback runs on the loop's thread too, and a plain callSoon"
                    + " from another thread is refused.");
    static final ClaimSpec PY_TASKS = new ClaimSpec("py-tasks",
            "Creating an asyncio task runs none of its code: it starts only when the loop gets to it, and two tasks"
                    + " interleave only at their awaits.");
    static final ClaimSpec JVM_TASKS = new ClaimSpec("jvm-tasks",
            "A toolkit Task also starts only when the loop gets to it, and two tasks interleave only at their"
                    + " awaits.");
    static final ClaimSpec PY_BLOCKING = new ClaimSpec("py-blocking",
            "In asyncio, a callback that blocks for B ms makes a timer due at the same moment run about B ms late"
                    + " (between 0.9×B and B + 50 ms), while without it the timer is late by under 0.25×B.");
    static final ClaimSpec JVM_BLOCKING = new ClaimSpec("jvm-blocking",
            "On the toolkit loop, a blocking callback delays a timer due at the same moment by about its blocking"
                    + " time too (between 0.9×B and B + 50 ms).");
    static final ClaimSpec PY_DEBUG = new ClaimSpec("py-debug",
            "asyncio's debug mode logs “Executing … took X seconds” for a callback that runs longer than"
                    + " loop.slow_callback_duration (0.1 s by default).");
    static final ClaimSpec JVM_DEBUG = new ClaimSpec("jvm-debug",
            "The toolkit loop's debug mode reports the same slow callback, with its name and duration.");

    static final ClaimSpec JVM_WATCHDOG = new ClaimSpec("jvm-watchdog",
            "The toolkit loop's stall watchdog reports a callback stuck for longer than its threshold, with the"
                    + " loop thread's stack naming the method that blocks.");

    /** The watchdog's threshold in part 7. */
    static final Duration STALL_THRESHOLD = Duration.ofMillis(50);

    /** The timers' labels, in the order they are scheduled; they must run a1, a2, b, c. */
    static final List<String> TIMER_ORDER = List.of("a1", "a2", "b", "c");
    /** The steps of tasks A and B, in the order they must run. */
    static final List<String> TASK_STEPS = List.of("A:0", "B:0", "A:1", "B:1", "A:2", "B:2");
    /** The blocking part's upper margin above B, in ms: the loop's own overhead plus a noisy machine. */
    static final int BLOCK_MARGIN_MS = 50;
    /** asyncio's {@code "Executing <Handle ...> took 0.150 seconds"}. */
    private static final Pattern EXECUTING = Pattern.compile("^Executing (.+) took (\\d+\\.\\d+) seconds$");

    @Override
    public String id() {
        return "loop-anatomy";
    }

    @Override
    public String title() {
        return "The asyncio event loop taken apart: ready queue, timer heap, threads, tasks, a blocking callback,"
                + " debug mode — beside the toolkit's loop";
    }

    @Override
    public String description() {
        return "Runs the same small programs on asyncio and on the toolkit's asyncio-style loop: call_soon FIFO in one"
                + " pass, timers in deadline order, call_soon_threadsafe from a worker thread, two tasks that"
                + " interleave only at awaits, a blocking callback that makes a timer late by its duration, and debug"
                + " mode reporting the slow callback.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("callbacks", "callbacks scheduled with call_soon in the FIFO part (N)", 1, 10_000,
                        100, 20),
                new Param.IntParam("block-ms", "how long the blocking callback blocks the loop, in ms (B)", 20, 5_000,
                        200, 100),
                new Param.IntParam("slow-ms", "how long the slow callback of the debug part runs, in ms (must exceed"
                        + " the 100 ms slow-callback duration)", 110, 5_000, 150, 150));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_FIFO, JVM_FIFO, PY_TIMERS, JVM_TIMERS, PY_THREADSAFE, JVM_THREADSAFE, PY_TASKS, JVM_TASKS,
                PY_BLOCKING, JVM_BLOCKING, PY_DEBUG, JVM_DEBUG, JVM_WATCHDOG);
    }

    /** What one side observed; both sides fill the same record, so one judge serves both. */
    record Observed(List<Integer> fifoOrder, List<String> timerOrder, boolean callbackOnLoopThread,
                    boolean callbackOnCaller, double postToRunMs, String plainCallFromOtherThread,
                    List<String> taskLog, double latenessMs, double baselineLatenessMs, double slowDurationS,
                    List<String> slowReports, List<Double> slowTookS) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int callbacks = ctx.intParam("callbacks");
        int block = ctx.intParam("block-ms");
        int slow = ctx.intParam("slow-ms");
        int repeats = ctx.repeats();

        ctx.progress(0.05, "toolkit loop: the same programs");
        Observed jvm = jvm(ctx, callbacks, block, slow, repeats);
        judge(ctx, jvm, callbacks, block, slow, repeats, JVM_FIFO, JVM_TIMERS, JVM_THREADSAFE, JVM_TASKS, JVM_BLOCKING,
                JVM_DEBUG, "callSoon", "toolkit loop");

        ctx.progress(0.45, "toolkit loop: the stall watchdog");
        LoopStall stall = watchdog();
        String frame = stall == null ? "no report" : stall.blockingFrame().map(f -> f.getClassName() + "."
                + f.getMethodName()).orElse("no application frame");
        String expectedFrame = LoopAnatomy.class.getName() + ".waitForTheWatchdog";
        ctx.claim(JVM_WATCHDOG, Verdict.check(stall != null && frame.equals(expectedFrame)
                        && stall.stalledFor().compareTo(STALL_THRESHOLD) >= 0, stall == null
                ? "the watchdog made no report within 10 s of the stall"
                : String.format("threshold %d ms: the watchdog reported callback \"%s\" stuck for %d ms, blocked at %s"
                        + " (needs %s), top of stack %s", STALL_THRESHOLD.toMillis(), stall.callbackName(),
                stall.stalledFor().toMillis(), frame, expectedFrame, stall.topFrame().map(f -> f.getClassName() + "."
                        + f.getMethodName()).orElse("?"))));

        ctx.progress(0.5, "CPython: loop_anatomy.py");
        Observed py = python(ctx, callbacks, block, slow, repeats);
        if (py != null) {
            judge(ctx, py, callbacks, block, slow, repeats, PY_FIFO, PY_TIMERS, PY_THREADSAFE, PY_TASKS, PY_BLOCKING,
                    PY_DEBUG, "call_soon", "asyncio");
        }

        Table.Builder table = Table.builder("One loop, two implementations (N = " + callbacks + ", B = " + block
                + " ms, slow callback " + slow + " ms; lateness: least of " + repeats + " runs)", "part", "asyncio",
                "toolkit SelectorEventLoop");
        table.row("1. call_soon × N, the first schedules one more", py == null ? "—" : fifoSummary(py.fifoOrder()),
                        fifoSummary(jvm.fifoOrder()))
                .row("2. timers scheduled c, a1, b, a2 ran", py == null ? "—" : String.join(", ", py.timerOrder()),
                        String.join(", ", jvm.timerOrder()))
                .row("3. call_soon_threadsafe callback ran on", py == null ? "—" : threadOf(py), threadOf(jvm))
                .row("3. … from post to run, ms", py == null ? "—" : py.postToRunMs(), jvm.postToRunMs())
                .row("3. plain call_soon from that thread, tried first", py == null ? "—"
                        : py.plainCallFromOtherThread(), jvm.plainCallFromOtherThread())
                .row("4. task log", py == null ? "—" : String.join(" · ", compact(py.taskLog())),
                        String.join(" · ", compact(jvm.taskLog())))
                .row("5. timer behind a " + block + " ms blocking callback, late by ms",
                        py == null ? "—" : py.latenessMs(), jvm.latenessMs())
                .row("5. … BASELINE without it, late by ms", py == null ? "—" : py.baselineLatenessMs(),
                        jvm.baselineLatenessMs())
                .row("6. slow-callback duration, s", py == null ? "—" : py.slowDurationS(), jvm.slowDurationS())
                .row("6. debug-mode reports", py == null ? "—" : String.join(" | ", py.slowReports()),
                        String.join(" | ", jvm.slowReports()))
                .row("7. stall watchdog (" + STALL_THRESHOLD.toMillis() + " ms) blocked at", "— (none built in)",
                        frame);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- judging (the same for both sides) --------------------------------------------------------------------

    private static void judge(RunContext ctx, Observed o, int callbacks, int block, int slow, int repeats,
                              ClaimSpec fifo, ClaimSpec timers, ClaimSpec threadsafe, ClaimSpec tasks,
                              ClaimSpec blocking, ClaimSpec debug, String callSoon, String side) {
        List<Integer> expectedFifo = new ArrayList<>(IntStream.range(0, callbacks).boxed().toList());
        expectedFifo.add(-1);
        ctx.claim(fifo, Verdict.check(o.fifoOrder().equals(expectedFifo), String.format(
                "%s: %d callbacks ran %s (needs 0 … %d in order, then the one the first of them scheduled)", side,
                callbacks, fifoSummary(o.fifoOrder()), callbacks - 1)));
        ctx.claim(timers, Verdict.check(o.timerOrder().equals(TIMER_ORDER), String.format(
                "%s: timers scheduled c (+30 ms), a1 (+10 ms), b (+20 ms), a2 (+10 ms, same deadline as a1) ran %s"
                        + " (needs a1, a2, b, c)", side, String.join(", ", o.timerOrder()))));
        boolean refusedOk = side.equals("asyncio") || o.plainCallFromOtherThread().startsWith("refused");
        ctx.claim(threadsafe, Verdict.check(o.callbackOnLoopThread() && !o.callbackOnCaller() && refusedOk,
                String.format("%s: the callback a worker thread posted ran on %s, %.2f ms after the post%s", side,
                        threadOf(o), o.postToRunMs(), "; a plain " + callSoon + " from the worker, tried first: "
                                + o.plainCallFromOtherThread())));
        ctx.claim(tasks, Verdict.check(tasksHold(o.taskLog()), String.format(
                "%s: log %s (needs \"created A\", \"created B\" first, then steps %s, each begin followed at once"
                        + " by its end)", side, String.join(" · ", compact(o.taskLog())), String.join(", ",
                        TASK_STEPS))));
        double upper = block + BLOCK_MARGIN_MS;
        boolean late = o.latenessMs() >= 0.9 * block && o.latenessMs() <= upper;
        boolean baselineOnTime = o.baselineLatenessMs() < 0.25 * block;
        ctx.claim(blocking, Verdict.check(late && (side.equals("asyncio") ? baselineOnTime : true), String.format(
                "%s: a timer due with a %d ms blocking callback ran %.1f ms late (%.2f×B; needs %.0f … %.0f ms);"
                        + " without it %.2f ms late%s; least of %d runs", side, block, o.latenessMs(),
                o.latenessMs() / block, 0.9 * block, upper, o.baselineLatenessMs(),
                side.equals("asyncio") ? String.format(" (needs < %.0f ms = 0.25×B)", 0.25 * block) : "", repeats)));
        boolean reported = o.slowReports().size() == 1 && o.slowTookS().size() == 1
                && o.slowTookS().getFirst() >= slow / 1000.0 && Math.abs(o.slowDurationS() - 0.1) < 1e-9;
        ctx.claim(debug, Verdict.check(reported, String.format(
                "%s in debug mode, slow-callback duration %.3f s (needs 0.1), a %d ms callback and a quick one: %d"
                        + " report(s) %s (needs exactly one, of at least %.3f s)", side, o.slowDurationS(), slow,
                o.slowReports().size(), o.slowReports(), slow / 1000.0)));
    }

    /** "created A", "created B", then steps alternating A, B, each "X:k begin" followed at once by "X:k end". */
    static boolean tasksHold(List<String> log) {
        if (log.size() != 2 + 2 * TASK_STEPS.size() || !log.get(0).equals("created A")
                || !log.get(1).equals("created B")) {
            return false;
        }
        for (int i = 0; i < TASK_STEPS.size(); i++) {
            String step = TASK_STEPS.get(i);
            if (!log.get(2 + 2 * i).equals(step + " begin") || !log.get(3 + 2 * i).equals(step + " end")) {
                return false;
            }
        }
        return true;
    }

    private static String fifoSummary(List<Integer> order) {
        List<Integer> batch = order.stream().filter(i -> i >= 0).toList();
        boolean inOrder = IntStream.range(0, batch.size()).allMatch(i -> batch.get(i) == i);
        int nested = order.indexOf(-1);
        if (inOrder && nested == order.size() - 1) {
            return batch.size() == 1 ? "0, then the nested one" : "0 … " + (batch.size() - 1)
                    + " in order, then the nested one";
        }
        return order.size() > 12 ? order.subList(0, 12) + "…" : order.toString();
    }

    private static String threadOf(Observed o) {
        return o.callbackOnLoopThread() ? "the loop's thread" : o.callbackOnCaller() ? "the posting thread"
                : "another thread";
    }

    /** "A:0 begin", "A:0 end" → "A:0". */
    private static List<String> compact(List<String> log) {
        List<String> out = new ArrayList<>();
        for (String entry : log) {
            if (entry.endsWith(" end")) {
                String step = entry.substring(0, entry.length() - 4);
                if (!out.isEmpty() && out.getLast().equals(step + " begin")) {
                    out.set(out.size() - 1, step);
                    continue;
                }
            }
            out.add(entry);
        }
        return out;
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static Observed python(RunContext ctx, int callbacks, int block, int slow, int repeats) throws Exception {
        long budget = 30_000 + (long) repeats * 2 * (block + 50) + slow + callbacks;
        ProbeOutcome outcome = PythonProbes.of(ctx).run("loop_anatomy.py", List.of(), Duration.ofMillis(budget),
                "--callbacks", Integer.toString(callbacks),
                "--block-ms", Integer.toString(block),
                "--slow-ms", Integer.toString(slow),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_FIFO, PY_TIMERS, PY_THREADSAFE, PY_TASKS, PY_BLOCKING, PY_DEBUG);
                ctx.note("CPython side skipped: " + missing.reason());
                return null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                ctx.note("CPython side: " + ran.interpreter() + ", probe ran in " + String.format("%.1f s",
                        ran.seconds()));
                JsonNode ts = json.path("threadsafe");
                long loopThread = number(ts, "loop_thread", json).longValue();
                long callbackThread = number(ts, "callback_thread", json).longValue();
                long callerThread = number(ts, "caller_thread", json).longValue();
                List<String> messages = strings(json.path("debug").path("messages"));
                List<Double> took = new ArrayList<>();
                for (String m : messages) {
                    Matcher matcher = EXECUTING.matcher(m);
                    if (matcher.matches()) {
                        took.add(Double.parseDouble(matcher.group(2)));
                    }
                }
                return new Observed(
                        ints(json.path("fifo").path("order")),
                        strings(json.path("timers").path("order")),
                        callbackThread == loopThread, callbackThread == callerThread,
                        number(ts, "post_to_run_s", json).doubleValue() * 1e3, ts.path("plain_call").asText("—"),
                        strings(json.path("tasks").path("log")),
                        number(json.path("blocking"), "lateness_s", json).doubleValue() * 1e3,
                        number(json.path("blocking"), "baseline_lateness_s", json).doubleValue() * 1e3,
                        number(json.path("debug"), "slow_callback_duration_s", json).doubleValue(),
                        messages, took);
            }
        }
    }

    private static JsonNode number(JsonNode group, String key, JsonNode whole) {
        JsonNode value = group.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe loop_anatomy.py printed no number at " + key + ": " + whole);
        }
        return value;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    // ---- the toolkit loop -------------------------------------------------------------------------------------

    private static Observed jvm(RunContext ctx, int callbacks, int block, int slow, int repeats) throws Exception {
        List<Integer> fifo;
        List<String> timers;
        ThreadsafeSeen threadsafe;
        List<String> tasks;
        double lateness = Double.MAX_VALUE;
        double baseline = Double.MAX_VALUE;
        // The loop runs on the experiment's thread inside runUntilComplete, as asyncio.run runs on its caller's.
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("anatomy").build()) {
            fifo = fifo(loop, callbacks);
            timers = timers(loop);
            threadsafe = threadsafe(loop);
            tasks = tasks(loop);
            for (int i = 0; i < repeats; i++) {
                ctx.checkCancelled();
                lateness = Math.min(lateness, blocking(loop, block, true));
                baseline = Math.min(baseline, blocking(loop, block, false));
                ctx.progress(0.05 + 0.35 * (i + 1) / repeats, "toolkit loop: blocking callback, run " + (i + 1));
            }
        }
        List<SlowCallback> reports = new ArrayList<>();
        double duration;
        try (SelectorEventLoop debug = SelectorEventLoop.builder().name("anatomy-debug").debug(true)
                .slowCallbackListener(reports::add).build()) {
            duration = debug.slowCallbackDuration().toNanos() / 1e9;
            LoopFuture<Void> done = debug.createFuture();
            debug.callSoon("slow callback", () -> sleep(slow));
            debug.callSoon("quick callback", () -> done.setResult(null));
            debug.runUntilComplete(done);
        }
        return new Observed(fifo, timers, threadsafe.onLoopThread(), threadsafe.onCaller(), threadsafe.postToRunMs(),
                threadsafe.plainCall(), tasks, lateness, baseline, duration,
                reports.stream().map(SlowCallback::message).toList(),
                reports.stream().map(r -> r.took().toNanos() / 1e9).toList());
    }

    /** Part 1: one callback schedules N; the first of those schedules one more (recorded as -1). */
    private static List<Integer> fifo(SelectorEventLoop loop, int n) {
        List<Integer> order = new ArrayList<>(); // touched only on the loop thread
        LoopFuture<Void> done = loop.createFuture("fifo");
        loop.callSoon("schedule all", () -> {
            for (int i = 0; i < n; i++) {
                int index = i;
                loop.callSoon("callback " + i, () -> {
                    order.add(index);
                    if (index == 0) {
                        loop.callSoon("nested", () -> {
                            order.add(-1);
                            done.setResult(null);
                        });
                    }
                });
            }
        });
        loop.runUntilComplete(done);
        return order;
    }

    /** Part 2: timers c, a1, b, a2 scheduled out of order; a1 and a2 share one deadline. */
    private static List<String> timers(SelectorEventLoop loop) {
        List<String> order = new ArrayList<>();
        LoopFuture<Void> done = loop.createFuture("timers");
        long base = loop.time() + TimeUnit.MILLISECONDS.toNanos(10);
        long ms = TimeUnit.MILLISECONDS.toNanos(1);
        loop.callAt(base + 20 * ms, "c", () -> {
            order.add("c");
            done.setResult(null);
        });
        loop.callAt(base, "a1", () -> order.add("a1"));
        loop.callAt(base + 10 * ms, "b", () -> order.add("b"));
        loop.callAt(base, "a2", () -> order.add("a2"));
        loop.runUntilComplete(done);
        return order;
    }

    private record ThreadsafeSeen(boolean onLoopThread, boolean onCaller, double postToRunMs, String plainCall) {
    }

    /** Part 3: a worker thread, started while the loop runs, posts a callback to it. */
    private static ThreadsafeSeen threadsafe(SelectorEventLoop loop) throws InterruptedException {
        Thread[] worker = new Thread[1];
        String[] plainCall = new String[1];
        LoopFuture<ThreadsafeSeen> done = loop.createFuture("threadsafe");
        Thread loopThread = Thread.currentThread();
        loop.callSoon("start the worker", () -> worker[0] = Thread.ofPlatform().name("anatomy-poster").start(() -> {
            try {
                loop.callSoon("plain call from a worker", () -> { });
                plainCall[0] = "accepted";
            } catch (IllegalStateException refused) {
                plainCall[0] = "refused: IllegalStateException";
            }
            Thread caller = Thread.currentThread();
            long[] posted = new long[1];
            String plain = plainCall[0]; // read on the worker, handed over by the post below (happens-before)
            Runnable onLoop = () -> done.setResult(new ThreadsafeSeen(Thread.currentThread() == loopThread,
                    Thread.currentThread() == caller, (System.nanoTime() - posted[0]) / 1e6, plain));
            posted[0] = System.nanoTime(); // after the lambda exists: its first creation is not the loop's cost
            loop.callSoonThreadsafe("posted by a worker", onLoop);
        }));
        ThreadsafeSeen seen = loop.runUntilComplete(done);
        worker[0].join();
        return seen;
    }

    /** Part 4: main creates tasks A and B, logging after each create, then awaits both. */
    private static List<String> tasks(SelectorEventLoop loop) {
        List<String> log = new ArrayList<>();
        Task<Void> main = loop.createTask("main", new Coroutine<>() {
            private int state;
            private Task<Void> a;
            private Task<Void> b;

            @Override
            public Step<Void> resume(Outcome<?> in) {
                in.orThrow();
                return switch (state++) {
                    case 0 -> {
                        a = loop.createTask("A", body(loop, "A", log));
                        log.add("created A");
                        b = loop.createTask("B", body(loop, "B", log));
                        log.add("created B");
                        yield Step.await(a);
                    }
                    case 1 -> Step.await(b);
                    default -> Step.done(null);
                };
            }
        });
        loop.runUntilComplete(main);
        return log;
    }

    /** A task body of three steps; each logs begin, does some work, logs end and awaits {@code sleep(0)}. */
    private static Coroutine<Void> body(SelectorEventLoop loop, String name, List<String> log) {
        return new Coroutine<>() {
            private int step;
            private long sink;

            @Override
            public Step<Void> resume(Outcome<?> in) {
                in.orThrow();
                if (step == 3) {
                    return Step.done(null);
                }
                log.add(name + ":" + step + " begin");
                for (int i = 0; i < 20_000; i++) {
                    sink += (long) i * i; // some work between two awaits: nothing else can run here
                }
                log.add(name + ":" + step + " end");
                step++;
                return Step.await(loop.sleep(Duration.ZERO));
            }

            @Override
            public String toString() {
                return "body " + name + " (" + sink + ")";
            }
        };
    }

    /** Part 5: a blocking callback and a timer due at the same deadline; returns the timer's lateness in ms. */
    private static double blocking(SelectorEventLoop loop, int block, boolean withBlock) {
        LoopFuture<Double> done = loop.createFuture("blocking");
        long deadline = loop.time() + TimeUnit.MILLISECONDS.toNanos(10);
        if (withBlock) {
            loop.callAt(deadline, "blocking callback", () -> sleep(block));
        }
        loop.callAt(deadline, "timer", () -> done.setResult((loop.time() - deadline) / 1e6));
        return loop.runUntilComplete(done);
    }

    /**
     * Part 7: a callback waits on a latch that the watchdog's report opens (so the stall is certain and ends as soon
     * as it is seen); returns the report, or {@code null} if none came within 10 s.
     */
    private static LoopStall watchdog() {
        CountDownLatch reported = new CountDownLatch(1);
        LoopStall[] report = new LoopStall[1];
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("anatomy-watched")
                .watchdog(STALL_THRESHOLD, stall -> {
                    report[0] = stall; // published to the loop thread by the latch below
                    reported.countDown();
                }).build()) {
            LoopFuture<Void> done = loop.createFuture("watchdog");
            loop.callSoon("waits for the watchdog", () -> {
                waitForTheWatchdog(reported);
                done.setResult(null);
            });
            loop.runUntilComplete(done);
            return reported.getCount() == 0 ? report[0] : null;
        } // close() stops and joins the watchdog thread
    }

    /** The stuck callback's frame: what the watchdog must name. */
    private static void waitForTheWatchdog(CountDownLatch reported) {
        try {
            reported.await(10, TimeUnit.SECONDS); // bounded, so a broken watchdog cannot hang the lab
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The broken callback: blocks the loop's only thread. */
    private static void sleep(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
