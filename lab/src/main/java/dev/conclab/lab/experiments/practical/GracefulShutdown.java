package dev.conclab.lab.experiments.practical;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.shutdown.Shutdown;
import dev.conclab.toolkit.shutdown.ShutdownReport;
import dev.conclab.toolkit.shutdown.ShutdownReport.Fate;
import dev.conclab.toolkit.shutdown.ShutdownReport.Phase;
import dev.conclab.toolkit.shutdown.ShutdownReport.ProcessFate;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Graceful shutdown of threads and processes, with the toolkit's {@link Shutdown} coordinator: stop accepting,
 * drain within a deadline, interrupt what is left, terminate child processes, and account for every task.
 *
 * <p>A small service is built, and every kind of work is in a known state (forced with latches) when the shutdown
 * begins:
 * <ul>
 *   <li>an <b>acceptor</b> thread on a loopback server socket; the stop-accepting hook closes the socket;</li>
 *   <li>a <b>requests</b> pool of 2 threads: 2 requests in flight that finish as soon as intake is closed, and
 *       {@code queued} more behind them that finish within the deadline too;</li>
 *   <li>a <b>batch</b> pool of 1 thread: one long job that would run past the deadline but stops when interrupted,
 *       and {@code queued} jobs behind it that never get a thread;</li>
 *   <li>a <b>legacy copy</b> thread that swallows every interrupt: it cannot be stopped from outside;</li>
 *   <li>a <b>child process</b> ({@code sleep 60}) that only a signal ends.</li>
 * </ul>
 * <b>Broken</b> beside it: {@code shutdownNow()} at once, with no drain: in-flight requests that would have finished
 * a moment later are interrupted instead.
 *
 * <p>The CPython probe does the same two ways: worker threads looping on {@code threading.Event}, set from a
 * {@code SIGTERM} handler in a child interpreter (and, Broken, the same child with no handler), and
 * {@code executor.shutdown(wait=True, cancel_futures=True)} with tasks queued behind a busy worker.
 *
 * <p>Run: {@code ./conclab run graceful-shutdown}. Expect the in-flight and queued requests to complete, the
 * long batch job to be interrupted, the queued batch jobs to come back never started, the legacy copy to be named
 * abandoned, the child to die of SIGTERM, and the counts to add up to the tasks accepted. The shutdown takes about
 * the deadline plus the interrupt grace (the legacy copy makes it wait that grace out).
 */
public final class GracefulShutdown implements Experiment {

    static final ClaimSpec STOPS_ACCEPTING = new ClaimSpec("stops-accepting",
            "Once shutdown begins, new work is refused: the server socket is closed and the executors reject"
                    + " new tasks.");
    static final ClaimSpec IN_FLIGHT_COMPLETES = new ClaimSpec("in-flight-completes",
            "Work in flight that can finish within the deadline completes; the Broken shutdown that calls"
                    + " shutdownNow() at once interrupts that same work.");
    static final ClaimSpec ACCOUNTED = new ClaimSpec("accounted",
            "Nothing accepted is lost silently: every task completed, was interrupted, or is listed in the report"
                    + " as never started or abandoned, and the counts add up.");
    static final ClaimSpec ABANDONED_NAMED = new ClaimSpec("abandoned-named",
            "Work that ignores interrupts is named in the report as abandoned, and shutdown still returns within"
                    + " its deadline plus its graces.");
    static final ClaimSpec CHILD_GONE = new ClaimSpec("child-gone",
            "A child process is terminated with SIGTERM and is gone when shutdown returns.");
    static final ClaimSpec PY_EVENT_DRAIN = new ClaimSpec("py-event-drain",
            "A SIGTERM handler that sets a threading.Event lets the workers finish the item in hand and the"
                    + " interpreter exit 0; with no handler (Broken), SIGTERM ends it at once and nothing drains.");
    static final ClaimSpec PY_CANCEL_FUTURES = new ClaimSpec("py-cancel-futures",
            "executor.shutdown(wait=True, cancel_futures=True) cancels every queued future and waits only for the"
                    + " running one; without cancel_futures every queued task still runs.");

    private static final Duration INTERRUPT_GRACE = Duration.ofMillis(200);
    private static final Duration PROCESS_GRACE = Duration.ofMillis(500);
    /** Beyond deadline + graces: the hooks, a reap wait for the child, a slow spell of a shared machine. */
    private static final Duration BOUND_MARGIN = Duration.ofMillis(1_000);
    private static final long GIVE_UP_SECONDS = 30;
    private static final String LEGACY = "legacy copy (ignores interrupts)";

    @Override
    public String id() {
        return "graceful-shutdown";
    }

    @Override
    public String title() {
        return "Graceful shutdown: stop accepting, drain to a deadline, interrupt, terminate children, account";
    }

    @Override
    public String description() {
        return "Shuts down a small service (acceptor, request pool, batch pool, a thread that ignores interrupts,"
                + " a child process) with the toolkit's Shutdown coordinator and checks that every accepted task is"
                + " accounted for; beside it, shutdownNow() at once (Broken), and CPython's Event + SIGTERM handler"
                + " and shutdown(cancel_futures=True).";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("deadline-ms", "how long in-flight work may take to drain", 50, 60_000, 300, 200),
                new Param.IntParam("queued", "tasks queued behind the busy workers of each pool", 1, 10_000, 20, 5));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(STOPS_ACCEPTING, IN_FLIGHT_COMPLETES, ACCOUNTED, ABANDONED_NAMED, CHILD_GONE, PY_EVENT_DRAIN,
                PY_CANCEL_FUTURES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        Duration deadline = Duration.ofMillis(ctx.intParam("deadline-ms"));
        int queued = ctx.intParam("queued");
        ctx.progress(0.05, "graceful shutdown of a small service");
        int brokenCompleted = broken(ctx);
        graceful(ctx, deadline, queued, brokenCompleted);
        ctx.progress(0.6, "CPython: Event + SIGTERM handler, shutdown(cancel_futures=True)");
        python(ctx, queued);
        ctx.progress(1, "done");
    }

    /** Counts what became of the tasks, from inside them. */
    private static final class Tally {
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger interrupted = new AtomicInteger();
    }

    private static ThreadFactory named(String prefix, List<Thread> started) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            synchronized (started) {
                started.add(t);
            }
            return t;
        };
    }

    // ---- the correct shutdown ---------------------------------------------------------------------------------

    private static void graceful(RunContext ctx, Duration deadline, int queued, int brokenCompleted)
            throws Exception {
        Tally tally = new Tally();
        List<Thread> started = new ArrayList<>();
        CountDownLatch intakeClosed = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch releaseLegacy = new CountDownLatch(1);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ExecutorService requests = Executors.newFixedThreadPool(2, named("request", started));
        ExecutorService batch = Executors.newSingleThreadExecutor(named("batch", started));
        try {
            Thread acceptor = Thread.ofPlatform().name("acceptor").unstarted(() -> {
                try {
                    while (true) {
                        server.accept().close();
                    }
                } catch (IOException closed) {
                    // The stop-accepting hook closed the socket: the acceptor's loop ends here.
                }
            });
            started.add(acceptor);
            acceptor.start();

            // Requests: two in flight until intake closes, `queued` more behind them.
            CountDownLatch requestsRunning = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                submit(requests, tally, () -> {
                    requestsRunning.countDown();
                    intakeClosed.await();
                });
            }
            for (int i = 0; i < queued; i++) {
                submit(requests, tally, () -> { });
            }
            // Batch: one long job that stops only when interrupted, `queued` more that never get the thread.
            CountDownLatch batchRunning = new CountDownLatch(1);
            submit(batch, tally, () -> {
                batchRunning.countDown();
                never.await();
            });
            for (int i = 0; i < queued; i++) {
                submit(batch, tally, () -> { });
            }
            // Legacy copy: swallows interrupts, ends only when released.
            CountDownLatch legacyRunning = new CountDownLatch(1);
            tally.accepted.incrementAndGet();
            Thread legacy = Thread.ofPlatform().name(LEGACY).start(() -> {
                legacyRunning.countDown();
                awaitIgnoringInterrupts(releaseLegacy);
                tally.completed.incrementAndGet();
            });
            started.add(legacy);
            Process child = ctx.children().start(new ProcessBuilder("sleep", "60"));

            if (!requestsRunning.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)
                    || !batchRunning.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)
                    || !legacyRunning.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the service's work did not start within " + GIVE_UP_SECONDS + " s");
            }

            Shutdown shutdown = new Shutdown(INTERRUPT_GRACE, PROCESS_GRACE)
                    .onStopAccepting("close server socket", () -> {
                        server.close();
                        intakeClosed.countDown(); // in-flight requests may now finish
                    });
            shutdown.register("acceptor", acceptor);
            shutdown.register("requests", requests);
            shutdown.register("batch", batch);
            shutdown.register(LEGACY, legacy);
            shutdown.register("child: sleep 60", child);

            long start = System.nanoTime();
            ShutdownReport report = shutdown.shutdown(deadline);
            long end = System.nanoTime();
            int completedAtReturn = tally.completed.get();
            boolean legacyAliveAtReturn = legacy.isAlive();

            boolean socketRefuses = refusesConnections(server.getLocalPort());
            boolean requestsReject = rejects(requests);
            boolean batchRejects = rejects(batch);
            trace(ctx, report, start);
            report(ctx, report, deadline, queued);

            ctx.claim(STOPS_ACCEPTING, Verdict.check(server.isClosed() && socketRefuses && requestsReject
                            && batchRejects && report.threads().getFirst().fate() == Fate.FINISHED,
                    String.format("server socket closed: %s, a new connection refused: %s; requests pool rejects"
                                    + " a new task: %s, batch pool: %s; acceptor thread ended: %s",
                            server.isClosed(), socketRefuses, requestsReject, batchRejects,
                            report.threads().getFirst().fate())));

            int requestTasks = 2 + queued;
            ShutdownReport.ExecutorResult requestsResult = report.executors().getFirst();
            ctx.claim(IN_FLIGHT_COMPLETES, Verdict.check(requestsResult.fate() == Fate.FINISHED
                            && requestsResult.neverStarted().isEmpty() && completedAtReturn == requestTasks
                            && brokenCompleted == 0,
                    String.format("graceful: requests pool %s, %d of %d requests completed (2 in flight, %d queued),"
                                    + " %d never started; Broken shutdownNow(): %d of 2 in-flight requests completed"
                                    + " (needs: all %d completed; Broken 0)",
                            requestsResult.fate(), completedAtReturn, requestTasks, queued,
                            requestsResult.neverStarted().size(), brokenCompleted, requestTasks)));

            // Only now is the legacy copy let go, so that nothing outlives the run.
            releaseLegacy.countDown();
            legacy.join(TimeUnit.SECONDS.toMillis(GIVE_UP_SECONDS));
            int abandoned = report.abandoned().size();
            int neverStarted = report.neverStartedCount();
            int accounted = completedAtReturn + tally.interrupted.get() + neverStarted + abandoned;
            ctx.claim(ACCOUNTED, Verdict.check(accounted == tally.accepted.get() && neverStarted == queued
                            && tally.interrupted.get() == 1 && abandoned == 1,
                    String.format("accepted %d = %d completed + %d interrupted + %d never started (listed by"
                                    + " shutdownNow) + %d abandoned (%s) = %d (needs equal, with %d never started,"
                                    + " 1 interrupted, 1 abandoned)",
                            tally.accepted.get(), completedAtReturn, tally.interrupted.get(), neverStarted, abandoned,
                            report.abandoned(), accounted, queued)));

            double tookMs = (end - start) / 1e6;
            double boundMs = deadline.plus(INTERRUPT_GRACE).plus(PROCESS_GRACE).plus(BOUND_MARGIN).toMillis();
            Fate legacyFate = report.threads().stream().filter(t -> t.name().equals(LEGACY))
                    .map(ShutdownReport.ThreadResult::fate).findFirst().orElse(null);
            ctx.claim(ABANDONED_NAMED, Verdict.check(report.abandoned().equals(List.of(LEGACY))
                            && legacyFate == Fate.ABANDONED && legacyAliveAtReturn && tookMs <= boundMs,
                    String.format("report.abandoned() = %s, thread fate %s, still alive at return: %s; shutdown took"
                                    + " %.0f ms (needs ≤ %.0f ms = deadline %d + interrupt grace %d + process grace"
                                    + " %d + margin %d)",
                            report.abandoned(), legacyFate, legacyAliveAtReturn, tookMs, boundMs,
                            deadline.toMillis(), INTERRUPT_GRACE.toMillis(), PROCESS_GRACE.toMillis(),
                            BOUND_MARGIN.toMillis())));

            ShutdownReport.ProcessResult childResult = report.processes().getFirst();
            ctx.claim(CHILD_GONE, Verdict.check(childResult.fate() == ProcessFate.TERMINATED && !child.isAlive(),
                    String.format("child pid %d: %s, alive after shutdown: %s (needs TERMINATED, not alive)",
                            childResult.pid(), childResult.fate(), child.isAlive())));
        } finally {
            never.countDown();
            releaseLegacy.countDown();
            server.close();
            requests.shutdownNow();
            batch.shutdownNow();
            joinAll(ctx, started);
        }
    }

    /** A task that counts itself accepted, then completed or interrupted. */
    private interface Body {
        void run() throws InterruptedException;
    }

    private static void submit(ExecutorService pool, Tally tally, Body body) {
        tally.accepted.incrementAndGet();
        pool.execute(() -> {
            try {
                body.run();
                tally.completed.incrementAndGet();
            } catch (InterruptedException e) {
                tally.interrupted.incrementAndGet();
            }
        });
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        while (true) {
            try {
                latch.await(GIVE_UP_SECONDS, TimeUnit.SECONDS); // bounded: never leave a thread behind for good
                return;
            } catch (InterruptedException swallowed) {
                // The bug this thread stands for: it catches the interrupt and goes on waiting.
            }
        }
    }

    private static boolean refusesConnections(int port) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return !socket.isConnected();
        } catch (IOException refused) {
            return true;
        }
    }

    private static boolean rejects(ExecutorService pool) {
        try {
            pool.execute(() -> { });
            return false;
        } catch (RejectedExecutionException expected) {
            return true;
        }
    }

    private static void joinAll(RunContext ctx, List<Thread> threads) throws InterruptedException {
        List<Thread> copy;
        synchronized (threads) {
            copy = List.copyOf(threads);
        }
        for (Thread t : copy) {
            t.join(TimeUnit.SECONDS.toMillis(5));
            if (t.isAlive()) {
                ctx.note("thread " + t.getName() + " was still alive 5 s after the run");
            }
        }
    }

    private static void trace(RunContext ctx, ShutdownReport report, long start) {
        long at = start;
        for (ShutdownReport.PhaseTime phase : report.phases()) {
            long end = at + phase.took().toNanos();
            ctx.trace().span("Shutdown coordinator", phase.phase().name(), at, end);
            at = end;
        }
    }

    private static void report(RunContext ctx, ShutdownReport report, Duration deadline, int queued) {
        Table.Builder phases = Table.builder("Shutdown phases (deadline " + deadline.toMillis() + " ms, interrupt"
                + " grace " + INTERRUPT_GRACE.toMillis() + " ms, process grace " + PROCESS_GRACE.toMillis() + " ms)",
                "phase", "ms");
        for (Phase phase : Phase.values()) {
            phases.row(phase.name(), report.took(phase).toNanos() / 1e6);
        }
        phases.row("total", report.total().toNanos() / 1e6);
        ctx.table(phases.build());

        Table.Builder fates = Table.builder("What became of each part of the service", "part", "kind", "fate",
                "never started");
        report.hooks().forEach(h -> fates.row(h.name(), "stop-accepting hook",
                h.failure().map(e -> "failed: " + e).orElse("ran"), "-"));
        report.threads().forEach(t -> fates.row(t.name(), "thread", t.fate().name(), "-"));
        report.executors().forEach(e -> fates.row(e.name(), "executor", e.fate().name(), e.neverStarted().size()));
        report.processes().forEach(p -> fates.row(p.name(), "process (pid " + p.pid() + ")", p.fate().name(),
                "-"));
        ctx.table(fates.build());
    }

    // ---- Broken: shutdownNow() at once ------------------------------------------------------------------------

    /** Two requests in flight that would finish as soon as intake closes; returns how many completed. */
    private static int broken(RunContext ctx) throws Exception {
        Tally tally = new Tally();
        List<Thread> started = new ArrayList<>();
        CountDownLatch intakeClosed = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(2);
        ExecutorService requests = Executors.newFixedThreadPool(2, named("broken-request", started));
        try {
            for (int i = 0; i < 2; i++) {
                submit(requests, tally, () -> {
                    running.countDown();
                    intakeClosed.await();
                });
            }
            if (!running.await(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the requests did not start");
            }
            requests.shutdownNow(); // Broken: no drain; the in-flight requests are interrupted
            requests.awaitTermination(GIVE_UP_SECONDS, TimeUnit.SECONDS);
            intakeClosed.countDown(); // too late: they were interrupted while waiting
        } finally {
            requests.shutdownNow();
            joinAll(ctx, started);
        }
        ctx.table(Table.builder("Broken: shutdownNow() at once, with 2 requests in flight", "requests in flight",
                        "completed", "interrupted")
                .row(2, tally.completed.get(), tally.interrupted.get()).build());
        return tally.completed.get();
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int queued) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("graceful_shutdown.py", List.of(), Duration.ofSeconds(60),
                "--workers", "4", "--queued", Integer.toString(queued));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_EVENT_DRAIN, PY_CANCEL_FUTURES);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode with = json.path("signal").path("with_handler");
                JsonNode without = json.path("signal").path("without_handler");
                JsonNode summary = with.path("summary");
                int joined = summary.path("workers_joined").asInt(-1);
                int unfinished = summary.path("unfinished_units").asInt(-1);
                ctx.table(Table.builder("CPython: SIGTERM to a child interpreter with 4 worker threads",
                                "variant", "exit status", "summary printed", "workers joined",
                                "items left unfinished", "signal → exit ms")
                        .row("handler sets threading.Event", with.path("exit_status").asInt(),
                                !summary.isNull() && !summary.isMissingNode(), joined, unfinished,
                                with.path("signal_to_exit_s").asDouble() * 1e3)
                        .row("Broken: no handler", without.path("exit_status").asInt(),
                                !without.path("summary").isNull(), "-", "-",
                                without.path("signal_to_exit_s").asDouble() * 1e3)
                        .build());
                boolean drains = with.path("exit_status").asInt() == 0 && joined == 4 && unfinished == 0
                        && without.path("exit_status").asInt() == -15 && without.path("summary").isNull();
                ctx.claim(PY_EVENT_DRAIN, Verdict.check(drains, String.format(
                        "with the handler: exit %d, %d of 4 workers joined, %d items left unfinished; without:"
                                + " exit %d (−15 = killed by SIGTERM), summary %s (needs 0, 4, 0; −15, none)",
                        with.path("exit_status").asInt(), joined, unfinished, without.path("exit_status").asInt(),
                        without.path("summary").isNull() ? "none" : "printed")));

                JsonNode pool = json.path("pool");
                JsonNode cancel = pool.path("cancel_futures");
                JsonNode noCancel = pool.path("no_cancel_futures");
                ctx.table(Table.builder("CPython: ThreadPoolExecutor(1), one running task and " + queued
                                        + " queued, then shutdown(wait=True)", "cancel_futures", "ran", "cancelled",
                                "submit() afterwards raises")
                        .row(true, cancel.path("ran").asInt(), cancel.path("cancelled").asInt(),
                                pool.path("submit_after_shutdown").asText())
                        .row(false, noCancel.path("ran").asInt(), noCancel.path("cancelled").asInt(),
                                pool.path("submit_after_shutdown").asText())
                        .build());
                ctx.claim(PY_CANCEL_FUTURES, Verdict.check(cancel.path("ran").asInt() == 1
                                && cancel.path("cancelled").asInt() == queued && noCancel.path("ran").asInt() == queued + 1
                                && noCancel.path("cancelled").asInt() == 0,
                        String.format("cancel_futures=True: %d ran, %d cancelled; cancel_futures=False: %d ran, %d"
                                        + " cancelled (needs 1 and %d; %d and 0)", cancel.path("ran").asInt(),
                                cancel.path("cancelled").asInt(), noCancel.path("ran").asInt(),
                                noCancel.path("cancelled").asInt(), queued, queued + 1)));
            }
        }
    }
}
