package dev.conclab.lab.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs experiments: each run on a platform thread of its own, bounded by the experiment's timeout, cancellable,
 * and always ending in a {@link RunRecord} — also when the experiment throws, times out or is cancelled.
 *
 * <p>When a run stops early its thread is interrupted, {@link RunContext#checkCancelled()} starts throwing, and
 * every child process it started is destroyed with its descendants. The runner then waits up to
 * {@link #STOP_GRACE} for the experiment's thread to return, interrupting it again while it winds down; an
 * experiment that ignores interrupts longer than that makes {@link RunHandle#awaitStopped()} throw.
 *
 * <p><b>Thread safety:</b> a runner may start many runs concurrently. Finished runs are saved to the
 * {@link ResultStore}, when one was given, before {@link RunHandle#await()} returns: completed, failed and timed-out
 * runs, but not cancelled ones, which would otherwise replace the latest evidence with a run that measured nothing.
 */
public final class Runner {

    /** How long a stopped run's thread gets to return. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);

    /**
     * How many times a run whose claims FAIL is measured before the failure stands. A shared machine has slow
     * spells of a few seconds (another tenant, a JIT or GC burst) that a best-of-N inside one attempt cannot
     * escape, and noise only ever slows a variant down; so a claim that holds on a second, complete measurement is
     * evidence, and one that fails twice is a failure. Each failed attempt stays in the record's notes.
     */
    public static final int ATTEMPTS = 2;

    private static final long REINTERRUPT_MILLIS = 100;
    private static final Verdict NOT_JUDGED = new Verdict.Fails("the experiment finished without judging this claim");

    private final Optional<ResultStore> store;

    public Runner(Optional<ResultStore> store) {
        this.store = store;
    }

    /** Runs {@code experiment} to its end and returns the record. */
    public RunRecord run(Experiment experiment, ParamValues params, boolean quick, ProgressListener progress)
            throws InterruptedException {
        return start(experiment, params, quick, progress).await();
    }

    /** Starts a run; the handle awaits or cancels it. */
    public RunHandle start(Experiment experiment, ParamValues params, boolean quick, ProgressListener progress) {
        RunContext ctx = new RunContext(experiment, params, quick, progress);
        CompletableFuture<RunRecord> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("conclab-run-" + experiment.id()).daemon(true)
                .unstarted(() -> done.complete(execute(experiment, ctx)));
        ctx.bind(thread);
        thread.start();
        return new RunHandle(experiment, ctx, thread, done);
    }

    /** The body of a run's thread: the attempts, then the record, however the attempts ended. */
    private RunRecord execute(Experiment experiment, RunContext ctx) {
        Instant started = Instant.now();
        long startNanos = System.nanoTime();
        String failure = null;
        try {
            runAttempts(experiment, ctx);
        } catch (InterruptedException | CancellationException e) {
            failure = "interrupted: " + e;
        } catch (Throwable e) {
            failure = describe(e);
        } finally {
            ctx.children().close();
        }
        RunStatus status = ctx.stopReason() != null ? ctx.stopReason()
                : failure != null ? RunStatus.FAILED : RunStatus.COMPLETED;
        String error = switch (status) {
            case COMPLETED -> null;
            case FAILED -> failure;
            case TIMED_OUT -> "timed out after " + experiment.timeout(ctx.quick()).toSeconds() + " s";
            case CANCELLED -> "cancelled by the user";
        };
        return record(experiment, ctx, status, error, started, (System.nanoTime() - startNanos) / 1e9);
    }

    /** Runs the experiment; a run with a failing claim runs again, up to {@link #ATTEMPTS} times in all. */
    private static void runAttempts(Experiment experiment, RunContext ctx) throws Exception {
        for (int attempt = 1; ; attempt++) {
            experiment.run(ctx);
            List<ClaimResult> failed = ctx.result(NOT_JUDGED).claims().stream()
                    .filter(c -> c.verdict() instanceof Verdict.Fails).toList();
            if (failed.isEmpty() || attempt == ATTEMPTS || ctx.stopReason() != null) {
                return;
            }
            ctx.startOver("attempt " + attempt + " of " + ATTEMPTS + " measured again after: "
                    + failed.stream().map(c -> c.id() + " FAILS (" + c.verdict().detail() + ")")
                    .collect(Collectors.joining("; ")));
        }
    }

    private RunRecord record(Experiment experiment, RunContext ctx, RunStatus status, String error, Instant started,
                             double seconds) {
        Verdict unjudged = switch (status) {
            case COMPLETED -> NOT_JUDGED;
            case FAILED -> new Verdict.Fails("the experiment failed: " + error);
            case TIMED_OUT -> new Verdict.Fails("the run " + error);
            case CANCELLED -> new Verdict.Skipped("the run was cancelled");
        };
        MachineFacts machine = MachineFacts.here().withPython(ctx.pythonVersion());
        RunRecord record = new RunRecord(experiment.id(), experiment.title(), ctx.params().values(), ctx.quick(),
                status, error, started.toString(), seconds, machine, ctx.result(unjudged));
        if (status != RunStatus.CANCELLED) {
            // A cancelled run measured nothing to the end; the evidence a card shows stays the last real run.
            store.ifPresent(s -> s.save(record));
        }
        return record;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /**
     * A started run. {@link #await()} enforces the experiment's timeout; {@link #cancel()} may be called from any
     * thread, any number of times.
     */
    public static final class RunHandle {
        private final Experiment experiment;
        private final RunContext ctx;
        private final Thread thread;
        private final CompletableFuture<RunRecord> done;

        private RunHandle(Experiment experiment, RunContext ctx, Thread thread, CompletableFuture<RunRecord> done) {
            this.experiment = experiment;
            this.ctx = ctx;
            this.thread = thread;
            this.done = done;
        }

        public void cancel() {
            ctx.stop(RunStatus.CANCELLED);
        }

        /** True once the run's thread has returned. */
        public boolean isDone() {
            return done.isDone() && !thread.isAlive();
        }

        /** Waits for the run to end, stopping it when its timeout passes. */
        public RunRecord await() throws InterruptedException {
            try {
                return finish(done.get(experiment.timeout(ctx.quick()).toMillis(), TimeUnit.MILLISECONDS));
            } catch (TimeoutException e) {
                ctx.stop(RunStatus.TIMED_OUT);
                return awaitStopped();
            } catch (ExecutionException e) {
                throw new IllegalStateException("the run's thread failed to record its result", e.getCause());
            }
        }

        /**
         * Waits for a stopped run to wind down, for at most {@link #STOP_GRACE}. The run's thread is interrupted
         * again every {@link #REINTERRUPT_MILLIS} ms meanwhile: cleanup code such as {@code ExecutorService.close()}
         * waits for its tasks and only cancels them when interrupted, and the first interrupt may already have been
         * consumed by the code it woke.
         */
        public RunRecord awaitStopped() throws InterruptedException {
            long deadline = System.nanoTime() + STOP_GRACE.toNanos();
            try {
                while (true) {
                    try {
                        return finish(done.get(REINTERRUPT_MILLIS, TimeUnit.MILLISECONDS));
                    } catch (TimeoutException e) {
                        if (System.nanoTime() >= deadline) {
                            throw new IllegalStateException(experiment.id() + " did not stop within "
                                    + STOP_GRACE.toSeconds() + " s of being asked to");
                        }
                        thread.interrupt();
                    }
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException("the run's thread failed to record its result", e.getCause());
            }
        }

        private RunRecord finish(RunRecord record) throws InterruptedException {
            thread.join(STOP_GRACE.toMillis());
            return record;
        }
    }
}
