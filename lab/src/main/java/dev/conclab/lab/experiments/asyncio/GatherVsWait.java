package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.Latches;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

/**
 * "Wait for all of them" versus "wait for the first": {@code asyncio.gather} and {@code asyncio.wait} beside
 * Java's three families — {@link CompletableFuture} chains, plain blocking code on virtual threads
 * ({@link ExecutorService#invokeAll}/{@link ExecutorService#invokeAny}), and {@link StructuredTaskScope}
 * (preview in JDK 25).
 *
 * <ol>
 *   <li><b>BASELINE — all results, in order.</b> N tasks are forced to complete in <em>reverse</em> order: task i
 *       may return only after task i+1 has (each waits on the next one's latch). {@code allOf} followed by
 *       {@code join()} of each future in argument order, {@code invokeAll}, and a scope opened with
 *       {@code Joiner.allSuccessfulOrThrow()} all hand back the results in argument order; the completion order
 *       (N−1, …, 0) is recorded beside them. {@code asyncio.gather} does the same; {@code asyncio.as_completed}
 *       yields in completion order instead.</li>
 *   <li><b>The first result — and what happens to the rest.</b> One task returns as soon as the N−1 others have
 *       started; they wait on a latch. {@code CompletableFuture.anyOf} completes with the first result and leaves
 *       the others running: they are released only after it returned, and they complete, uncancelled (like the
 *       pending set of {@code asyncio.wait(return_when=FIRST_COMPLETED)}). {@code invokeAny} and a scope with
 *       {@code Joiner.anySuccessfulResultOrThrow()} instead cancel the rest: their latch is never opened, so the
 *       only way out for them is the interrupt, whose arrival is timed.</li>
 *   <li><b>Timeouts.</b> {@code Future.get(timeout)} throws {@link TimeoutException} and leaves the task running
 *       (like {@code asyncio.wait(timeout=)}, which returns it as pending); {@code invokeAll(tasks, timeout)}
 *       cancels and interrupts the tasks not done in time (like {@code asyncio.wait_for} and
 *       {@code asyncio.timeout}, which cancel the awaited task).</li>
 * </ol>
 * Every ordering is forced with latches (asyncio events in the probe); sleeps appear only as the timeouts being
 * demonstrated. Tasks that are never released are freed by a give-up timeout, so a broken expectation fails the
 * claim instead of hanging the run.
 *
 * <p>The CPython probe {@code gather_wait.py} runs the same shapes on one event loop, and crosses the bridge from
 * {@code concurrent.futures}: a {@code concurrent.futures.Future} is not awaitable, {@code asyncio.wrap_future} (which
 * {@code loop.run_in_executor} uses) makes an {@code asyncio.Future} of it. Java needs no bridge: a
 * {@code CompletableFuture} may be completed from any thread and waited for from any other.
 *
 * <p>Stateless: each run builds its own executors, scopes and latches, and every thread it starts has ended when
 * {@code run} returns (executors and scopes are closed, which waits for their threads).
 *
 * <p>Run: {@code ./conclab run gather-vs-wait}. Expect every "in order" row to show results 0…N−1 beside a
 * completion order N−1…0, {@code anyOf}'s losers to complete after it returned, every loser of {@code invokeAny}
 * and of the scope to be interrupted within a few milliseconds, and the timeouts to behave as in asyncio.
 */
public final class GatherVsWait implements Experiment {

    static final ClaimSpec ALL_IN_ORDER = new ClaimSpec("all-in-order",
            "CompletableFuture.allOf followed by join() in argument order, ExecutorService.invokeAll and a"
                    + " StructuredTaskScope with Joiner.allSuccessfulOrThrow() return the results in argument order"
                    + " even when the tasks complete in reverse order.");
    static final ClaimSpec ANYOF_OTHERS_RUN = new ClaimSpec("anyof-others-run",
            "CompletableFuture.anyOf completes with the first result while the other futures keep running; they"
                    + " complete later, not cancelled.");
    static final ClaimSpec INVOKEANY_CANCELS = new ClaimSpec("invokeany-cancels",
            "ExecutorService.invokeAny returns the first successful result and cancels the rest: every task still"
                    + " running is interrupted within 1 s.");
    static final ClaimSpec STS_ANY_INTERRUPTS = new ClaimSpec("sts-any-interrupts",
            "A StructuredTaskScope with Joiner.anySuccessfulResultOrThrow() returns the first successful result and"
                    + " interrupts the subtasks still running; all of them have ended when the scope closes.");
    static final ClaimSpec JAVA_TIMEOUTS = new ClaimSpec("java-timeouts",
            "Future.get(timeout) throws TimeoutException and leaves the task running, while invokeAll with a"
                    + " timeout cancels the tasks not done in time and interrupts the running ones.");
    static final ClaimSpec PY_GATHER_ORDER = new ClaimSpec("py-gather-order",
            "asyncio.gather returns the results in argument order even when the tasks complete in reverse order;"
                    + " asyncio.as_completed yields them in completion order.");
    static final ClaimSpec PY_WAIT_FIRST = new ClaimSpec("py-wait-first",
            "asyncio.wait(return_when=FIRST_COMPLETED) returns (done, pending) sets; the pending tasks are not"
                    + " cancelled and complete later on their own.");
    static final ClaimSpec PY_WRAP_FUTURE = new ClaimSpec("py-wrap-future",
            "A concurrent.futures.Future cannot be awaited (TypeError); asyncio.wrap_future and"
                    + " loop.run_in_executor turn it into an asyncio Future that the loop awaits while the function"
                    + " runs on a pool thread.");
    static final ClaimSpec PY_WAIT_TIMEOUT = new ClaimSpec("py-wait-timeout",
            "asyncio.wait(timeout=) returns the unfinished tasks as pending without cancelling them, while"
                    + " asyncio.wait_for and asyncio.timeout cancel the awaited task and raise TimeoutError.");

    /** How long any task waits for a latch that should open soon before it calls itself stuck. */
    private static final long GIVE_UP_SECONDS = 20;
    /** The claims' bound on how soon a cancelled task must see its interrupt. */
    private static final double INTERRUPT_WITHIN_MS = 1_000;

    @Override
    public String id() {
        return "gather-vs-wait";
    }

    @Override
    public String title() {
        return "Wait for all, or for the first: asyncio.gather and asyncio.wait beside CompletableFuture,"
                + " invokeAll/invokeAny and StructuredTaskScope";
    }

    @Override
    public String description() {
        return "Forces N tasks to complete in reverse order and shows which waits return results in argument"
                + " order (allOf+join, invokeAll, allSuccessfulOrThrow, asyncio.gather) or completion order"
                + " (as_completed); which first-result waits leave the others running (anyOf, asyncio.wait) and"
                + " which interrupt them (invokeAny, anySuccessfulResultOrThrow); and which timeouts cancel.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("tasks", "tasks in each wait (N)", 2, 64, 5, 3),
                new Param.IntParam("timeout-ms", "the timeout of the timeout cases, Java and CPython", 5, 5_000,
                        100, 50));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(ALL_IN_ORDER, ANYOF_OTHERS_RUN, INVOKEANY_CANCELS, STS_ANY_INTERRUPTS, JAVA_TIMEOUTS,
                PY_GATHER_ORDER, PY_WAIT_FIRST, PY_WAIT_TIMEOUT, PY_WRAP_FUTURE);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("tasks");
        int timeoutMs = ctx.intParam("timeout-ms");
        Table.Builder table = Table.builder("Waiting for N = " + n + " tasks (completion forced to N−1 … 0)",
                "runtime", "wait", "returns", "completion order", "the other tasks after it returned");
        List<String> expected = IntStream.range(0, n).mapToObj(i -> "result-" + i).toList();
        List<Integer> reverse = IntStream.range(0, n).map(i -> n - 1 - i).boxed().toList();

        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            ctx.progress(0.05, "all results: allOf, invokeAll, allSuccessfulOrThrow");
            List<Ordered> ordered = List.of(allOf(exec, n), invokeAll(exec, n), allSuccessful(n));
            boolean inOrder = true;
            StringBuilder evidence = new StringBuilder();
            for (Ordered o : ordered) {
                table.row("JVM", o.how(), String.join(", ", o.results()), o.completion().toString(),
                        "all complete");
                inOrder &= o.results().equals(expected) && o.completion().equals(reverse);
                evidence.append(String.format("%s → %s, completed %s; ", o.how(), o.results(), o.completion()));
            }
            ctx.claim(ALL_IN_ORDER, Verdict.check(inOrder, evidence + "needs results " + expected
                    + " and completion " + reverse));

            ctx.progress(0.25, "the first result: anyOf");
            anyOf(ctx, exec, n, table);
            ctx.progress(0.35, "the first result: invokeAny");
            invokeAny(ctx, exec, n, table);
            ctx.progress(0.45, "the first result: anySuccessfulResultOrThrow");
            anySuccessful(ctx, n, table);
            ctx.progress(0.55, "timeouts: get(timeout), invokeAll(timeout)");
            timeouts(ctx, exec, n, timeoutMs, table);
        }
        ctx.progress(0.7, "CPython: gather_wait.py");
        python(ctx, n, timeoutMs, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- all results ------------------------------------------------------------------------------------------

    /** The results a wait-for-all gave, and the order in which the tasks had completed. */
    private record Ordered(String how, List<String> results, List<Integer> completion) {
    }

    private static Ordered allOf(ExecutorService exec, int n) {
        ReverseChain chain = new ReverseChain(n);
        List<CompletableFuture<String>> futures = IntStream.range(0, n)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> chain.uncheckedRun(i), exec)).toList();
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
        return new Ordered("CompletableFuture.allOf, then join() each in order",
                futures.stream().map(CompletableFuture::join).toList(), chain.completion());
    }

    private static Ordered invokeAll(ExecutorService exec, int n) throws Exception {
        ReverseChain chain = new ReverseChain(n);
        List<String> results = new ArrayList<>();
        for (Future<String> f : exec.invokeAll(chain.callables())) {
            results.add(f.resultNow());
        }
        return new Ordered("ExecutorService.invokeAll (virtual threads)", results, chain.completion());
    }

    private static Ordered allSuccessful(int n) throws InterruptedException {
        ReverseChain chain = new ReverseChain(n);
        try (var scope = StructuredTaskScope.open(Joiner.<String>allSuccessfulOrThrow())) {
            for (Callable<String> task : chain.callables()) {
                scope.fork(task);
            }
            List<String> results = scope.join().map(Subtask::get).toList();
            return new Ordered("StructuredTaskScope, Joiner.allSuccessfulOrThrow()", results, chain.completion());
        }
    }

    /** N tasks forced to complete in reverse order: task i returns only after task i+1 has. Thread-safe. */
    private static final class ReverseChain {
        private final CountDownLatch[] done;
        private final Queue<Integer> completed = new ConcurrentLinkedQueue<>();

        ReverseChain(int n) {
            done = IntStream.range(0, n).mapToObj(i -> new CountDownLatch(1)).toArray(CountDownLatch[]::new);
        }

        String run(int i) throws InterruptedException {
            if (i + 1 < done.length) {
                Latches.await(done[i + 1], GIVE_UP_SECONDS, "task " + (i + 1) + " to complete");
            }
            completed.add(i);
            done[i].countDown();
            return "result-" + i;
        }

        String uncheckedRun(int i) {
            try {
                return run(i);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
            }
        }

        List<Callable<String>> callables() {
            return IntStream.range(0, done.length).<Callable<String>>mapToObj(i -> () -> run(i)).toList();
        }

        List<Integer> completion() {
            return List.copyOf(completed);
        }
    }

    // ---- the first result -------------------------------------------------------------------------------------

    /**
     * One winner and N−1 losers. The winner returns once every loser has started; the losers wait for
     * {@link #release}, and record when an interrupt takes them out of that wait instead. Thread-safe.
     */
    private static final class Race {
        final CountDownLatch started;
        final CountDownLatch release = new CountDownLatch(1);
        final Queue<Long> interruptedAt = new ConcurrentLinkedQueue<>();
        final Queue<Integer> completed = new ConcurrentLinkedQueue<>();

        Race(int n) {
            started = new CountDownLatch(n - 1);
        }

        List<Callable<String>> callables(int n) {
            List<Callable<String>> tasks = new ArrayList<>();
            tasks.add(this::winner);
            for (int i = 1; i < n; i++) {
                int id = i;
                tasks.add(() -> loser(id));
            }
            return tasks;
        }

        String winner() throws InterruptedException {
            Latches.await(started, GIVE_UP_SECONDS, "every loser to start");
            return "winner";
        }

        String loser(int id) throws InterruptedException {
            started.countDown();
            try {
                Latches.await(release, GIVE_UP_SECONDS, "the release");
            } catch (InterruptedException e) {
                interruptedAt.add(System.nanoTime());
                throw e;
            }
            completed.add(id);
            return "loser-" + id;
        }

        /** Milliseconds from {@code since} to the last interrupt seen (negative if all came before it). */
        double lastInterruptMs(long since) {
            return interruptedAt.stream().mapToLong(t -> t - since).max().orElse(Long.MIN_VALUE) / 1e6;
        }
    }

    private static void anyOf(RunContext ctx, ExecutorService exec, int n, Table.Builder table) throws Exception {
        Race race = new Race(n);
        List<CompletableFuture<String>> futures = race.callables(n).stream()
                .map(task -> CompletableFuture.supplyAsync(() -> call(task), exec)).toList();
        Object first = CompletableFuture.anyOf(futures.toArray(CompletableFuture[]::new)).join();
        long othersRunning = futures.stream().skip(1).filter(f -> !f.isDone()).count();
        race.release.countDown(); // only now may the losers finish
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
        long completedLater = futures.stream().skip(1)
                .filter(f -> !f.isCancelled() && !f.isCompletedExceptionally()).count();
        table.row("JVM", "CompletableFuture.anyOf", first, "winner first (losers wait for a latch)",
                othersRunning + " of " + (n - 1) + " still running; after the release " + completedLater
                        + " completed normally");
        ctx.claim(ANYOF_OTHERS_RUN, Verdict.check("winner".equals(first) && othersRunning == n - 1
                && completedLater == n - 1 && race.interruptedAt.isEmpty(), String.format(
                "anyOf returned \"%s\"; when it did, %d of %d other futures were still running; released"
                        + " afterwards, %d completed normally and %d were interrupted (needs the winner, all %d"
                        + " running, all completed, none interrupted)", first, othersRunning, n - 1,
                completedLater, race.interruptedAt.size(), n - 1)));
    }

    private static void invokeAny(RunContext ctx, ExecutorService exec, int n, Table.Builder table)
            throws Exception {
        Race race = new Race(n);
        String first = exec.invokeAny(race.callables(n));
        long returned = System.nanoTime();
        boolean allInterrupted = awaitCount(race.interruptedAt, n - 1);
        double lastMs = race.lastInterruptMs(returned);
        race.release.countDown(); // frees any loser the cancel missed, so nothing waits for the give-up
        table.row("JVM", "ExecutorService.invokeAny (virtual threads)", first, "winner first",
                String.format("%d of %d interrupted, the last %.2f ms after it returned", race.interruptedAt.size(),
                        n - 1, lastMs));
        ctx.claim(INVOKEANY_CANCELS, Verdict.check("winner".equals(first) && allInterrupted
                && lastMs <= INTERRUPT_WITHIN_MS && race.completed.isEmpty(), String.format(
                "invokeAny returned \"%s\"; %d of %d losers were interrupted, the last %.2f ms after it returned;"
                        + " %d ran to completion (needs all interrupted within %.0f ms, none completed)", first,
                race.interruptedAt.size(), n - 1, lastMs, race.completed.size(), INTERRUPT_WITHIN_MS)));
    }

    private static void anySuccessful(RunContext ctx, int n, Table.Builder table) throws InterruptedException {
        Race race = new Race(n);
        String first;
        long returned;
        int interruptedAtJoin;
        try (var scope = StructuredTaskScope.open(Joiner.<String>anySuccessfulResultOrThrow())) {
            for (Callable<String> task : race.callables(n)) {
                scope.fork(task);
            }
            first = scope.join();
            returned = System.nanoTime();
            interruptedAtJoin = race.interruptedAt.size();
        } finally {
            race.release.countDown(); // only reached if the scope failed to cancel: never leave a loser waiting
        }
        int interruptedAtClose = race.interruptedAt.size();
        double lastMs = race.lastInterruptMs(returned);
        table.row("JVM", "StructuredTaskScope, Joiner.anySuccessfulResultOrThrow()", first, "winner first",
                String.format("%d of %d interrupted when join() returned, %d when the scope closed (last %.2f ms"
                        + " after join)", interruptedAtJoin, n - 1, interruptedAtClose, lastMs));
        ctx.claim(STS_ANY_INTERRUPTS, Verdict.check("winner".equals(first) && interruptedAtClose == n - 1
                && race.completed.isEmpty() && lastMs <= INTERRUPT_WITHIN_MS, String.format(
                "join() returned \"%s\"; of %d losers, %d had been interrupted when it returned and %d when close()"
                        + " returned (the last %.2f ms after join); %d ran to completion (needs all interrupted by"
                        + " close, within %.0f ms, none completed)", first, n - 1, interruptedAtJoin,
                interruptedAtClose, lastMs, race.completed.size(), INTERRUPT_WITHIN_MS)));
    }

    // ---- timeouts ---------------------------------------------------------------------------------------------

    private static void timeouts(RunContext ctx, ExecutorService exec, int n, int timeoutMs, Table.Builder table)
            throws Exception {
        // Future.get(timeout): the wait gives up, the task does not.
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        Future<String> slow = exec.submit(() -> {
            started.countDown();
            Latches.await(gate, GIVE_UP_SECONDS, "the gate");
            return "late result";
        });
        Latches.await(started, GIVE_UP_SECONDS, "the task to start");
        long from = System.nanoTime();
        boolean timedOut = false;
        try {
            slow.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            timedOut = true;
        }
        double getMs = (System.nanoTime() - from) / 1e6;
        boolean stillRunning = !slow.isDone();
        gate.countDown();
        String late = slow.get(GIVE_UP_SECONDS, TimeUnit.SECONDS);
        table.row("JVM", "Future.get(" + timeoutMs + " ms)", String.format("TimeoutException after %.1f ms", getMs),
                "—", (stillRunning ? "task still running" : "task DONE") + "; released, it returned \"" + late
                        + "\"");

        // invokeAll(tasks, timeout): the tasks not done in time are cancelled.
        Race race = new Race(n + 1); // no winner is used: n losers that wait for a release that never comes
        List<Callable<String>> losers = race.callables(n + 1).subList(1, n + 1);
        long invoked = System.nanoTime();
        List<Future<String>> futures = exec.invokeAll(losers, timeoutMs, TimeUnit.MILLISECONDS);
        double invokeMs = (System.nanoTime() - invoked) / 1e6;
        long cancelled = futures.stream().filter(Future::isCancelled).count();
        // A task cancelled before its thread ran never starts; every one that did start must see the interrupt.
        long startedCount = n - race.started.getCount();
        boolean interruptedAll = awaitCount(race.interruptedAt, (int) startedCount);
        race.release.countDown();
        table.row("JVM", "invokeAll(tasks, " + timeoutMs + " ms)", String.format("after %.1f ms", invokeMs), "—",
                String.format("%d of %d cancelled; %d had started, %d interrupted", cancelled, n, startedCount,
                        race.interruptedAt.size()));
        ctx.claim(JAVA_TIMEOUTS, Verdict.check(timedOut && getMs >= timeoutMs - 1 && stillRunning
                && "late result".equals(late) && cancelled == n && interruptedAll && race.completed.isEmpty(),
                String.format("get(%d ms) threw TimeoutException: %s, after %.1f ms; the task was still running: %s,"
                                + " and returned \"%s\" once released; invokeAll(%d tasks, %d ms) returned after"
                                + " %.1f ms with %d cancelled, %d of the %d started ones interrupted, %d completed"
                                + " (needs: timed out, still running, completed later; all cancelled, every started"
                                + " one interrupted, none completed)", timeoutMs, timedOut, getMs, stillRunning,
                        late, n, timeoutMs, invokeMs, cancelled, race.interruptedAt.size(), startedCount,
                        race.completed.size())));
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int n, int timeoutMs, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gather_wait.py", List.of(), Duration.ofSeconds(30),
                "--tasks", Integer.toString(n), "--timeout-ms", Integer.toString(timeoutMs));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_GATHER_ORDER, PY_WAIT_FIRST, PY_WAIT_TIMEOUT, PY_WRAP_FUTURE);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                List<String> expected = IntStream.range(0, n).mapToObj(i -> "result-" + i).toList();
                List<String> reversedResults = expected.reversed();
                List<Integer> reverse = IntStream.range(0, n).map(i -> n - 1 - i).boxed().toList();

                JsonNode gather = json.path("gather");
                JsonNode asCompleted = json.path("as_completed");
                List<String> gathered = strings(gather.path("results"));
                List<String> yielded = strings(asCompleted.path("yielded"));
                table.row(py, "asyncio.gather", String.join(", ", gathered),
                        ints(gather.path("completion_order")).toString(), "all complete");
                table.row(py, "asyncio.as_completed", String.join(", ", yielded) + " (in this order)",
                        ints(asCompleted.path("completion_order")).toString(), "all complete");
                ctx.claim(PY_GATHER_ORDER, Verdict.check(gathered.equals(expected)
                        && ints(gather.path("completion_order")).equals(reverse) && yielded.equals(reversedResults),
                        String.format("gather → %s with completion order %s; as_completed yielded %s (needs %s, %s"
                                        + " and %s)", gathered, ints(gather.path("completion_order")), yielded,
                                expected, reverse, reversedResults)));

                JsonNode first = json.path("first");
                int done = first.path("done").asInt(-1);
                int pending = first.path("pending").asInt(-1);
                int pendingDone = first.path("pending_done").asInt(-1);
                int pendingCancelled = first.path("pending_cancelled").asInt(-1);
                int later = first.path("later_completed").asInt(-1);
                table.row(py, "asyncio.wait(FIRST_COMPLETED)", "(done: " + done + ", pending: " + pending + ")",
                        "the fast one first", String.format("%d done, %d cancelled at return; %d completed later,"
                                + " never awaited again", pendingDone, pendingCancelled, later));
                ctx.claim(PY_WAIT_FIRST, Verdict.check(done == 1 && pending == n - 1 && pendingDone == 0
                        && pendingCancelled == 0 && later == n - 1, String.format(
                        "wait returned %d done and %d pending; of the pending, %d were done and %d cancelled at that"
                                + " moment, and %d completed later on their own (needs 1, %d, 0, 0, %d)", done,
                        pending, pendingDone, pendingCancelled, later, n - 1, n - 1)));

                JsonNode wait = json.path("wait_timeout");
                JsonNode waitFor = json.path("wait_for");
                JsonNode cm = json.path("timeout_cm");
                int waitPending = wait.path("pending").asInt(-1);
                int waitCancelled = wait.path("pending_cancelled").asInt(-1) + wait.path("cancelled_errors_seen")
                        .asInt(-1);
                table.row(py, "asyncio.wait(timeout=" + timeoutMs + " ms)", String.format(
                        "(done: %d, pending: %d) after %.1f ms", wait.path("done").asInt(), waitPending,
                        wait.path("elapsed_s").asDouble() * 1e3), "—", waitCancelled == 0
                        ? "none cancelled, still waiting" : waitCancelled + " cancelled");
                table.row(py, "asyncio.wait_for(task, " + timeoutMs + " ms)", String.format("%s after %.1f ms",
                        waitFor.path("raised").asText(), waitFor.path("elapsed_s").asDouble() * 1e3), "—",
                        "task cancelled: " + waitFor.path("task_cancelled").asBoolean());
                table.row(py, "async with asyncio.timeout(" + timeoutMs + " ms)", String.format("%s after %.1f ms",
                        cm.path("raised").asText(), cm.path("elapsed_s").asDouble() * 1e3), "—",
                        "inner await saw CancelledError: " + (cm.path("cancelled_errors_seen").asInt() == 1));
                boolean holds = waitPending == n && wait.path("done").asInt(-1) == 0 && waitCancelled == 0
                        && wait.path("pending_done").asInt(-1) == 0
                        && "TimeoutError".equals(waitFor.path("raised").asText())
                        && waitFor.path("task_cancelled").asBoolean() && waitFor.path("cancelled_errors_seen")
                        .asInt() == 1 && "TimeoutError".equals(cm.path("raised").asText())
                        && cm.path("cancelled_errors_seen").asInt() == 1;
                ctx.claim(PY_WAIT_TIMEOUT, Verdict.check(holds, String.format(
                        "wait(timeout=%d ms) returned %d pending of %d, %d cancelled; wait_for raised %s and"
                                + " cancelled the task: %s; asyncio.timeout raised %s and the inner await saw %d"
                                + " CancelledError (needs all pending, none cancelled; TimeoutError and cancelled"
                                + " twice); %s", timeoutMs, waitPending, n, waitCancelled,
                        waitFor.path("raised").asText(), waitFor.path("task_cancelled").asBoolean(),
                        cm.path("raised").asText(), cm.path("cancelled_errors_seen").asInt(), py)));

                JsonNode f = json.path("futures");
                String awaitError = f.path("await_concurrent_future").asText();
                String wrapped = f.path("wrapped_type").asText();
                String inExecutor = f.path("run_in_executor_type").asText();
                boolean offLoop = f.path("ran_off_loop_thread").asBoolean();
                table.row(py, "await pool.submit(fn) (a concurrent.futures.Future)", awaitError, "—", "—");
                table.row(py, "await asyncio.wrap_future(pool.submit(fn)); loop.run_in_executor(pool, fn)",
                        wrapped + "; " + inExecutor, "—", "fn ran on a pool thread, not the loop's: " + offLoop);
                ctx.claim(PY_WRAP_FUTURE, Verdict.check("TypeError".equals(awaitError)
                        && wrapped.endsWith("asyncio.Future") && inExecutor.endsWith("asyncio.Future") && offLoop,
                        String.format("awaiting %s raised %s; wrap_future gave %s and run_in_executor %s, both"
                                        + " awaited; the function ran off the loop's thread: %s (needs TypeError,"
                                        + " asyncio Futures, true)", f.path("plain_type").asText(), awaitError,
                                wrapped, inExecutor, offLoop)));
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asInt()));
        return out;
    }

    /** Waits until {@code queue} holds {@code count} entries, for at most the give-up time; false if it did not. */
    private static boolean awaitCount(Queue<?> queue, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GIVE_UP_SECONDS);
        while (queue.size() < count) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1); // polling a count: how soon it fills is what is measured, from the tasks' own clocks
        }
        return true;
    }

    private static <T> T call(Callable<T> task) {
        try {
            return task.call();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new CompletionException(e);
        }
    }
}
