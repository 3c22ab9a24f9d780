package dev.conclab.lab.experiments.asyncio;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.toolkit.loop.Coroutine;
import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.Outcome;
import dev.conclab.toolkit.loop.SelectorEventLoop;
import dev.conclab.toolkit.loop.Step;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The JVM half of {@link ThreadsAndLoop}: the same hand-offs between a worker thread and the toolkit's
 * {@link SelectorEventLoop}, each forced. Every round runs on a fresh loop on the calling thread; the worker thread
 * of a round is started by a loop callback and joined before the round ends. Not thread-safe; used once by one run.
 */
final class ThreadsAndLoopJvm {

    /** How long any forced step may take before the lab calls it stuck. */
    static final String LOOP_THREAD = "the loop thread";
    private static final long STUCK_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** One round: the delay from the worker's call to its effect on the loop, and whether the timer came first. */
    record Round(double delayMs, boolean afterTimer) {
    }

    /** The rounds of one prompt step. */
    record Prompt(List<Round> rounds) {
        double minMs() {
            return rounds.stream().mapToDouble(Round::delayMs).min().orElse(Double.NaN);
        }

        double maxMs() {
            return rounds.stream().mapToDouble(Round::delayMs).max().orElse(Double.NaN);
        }

        long afterTimer() {
            return rounds.stream().filter(Round::afterTimer).count();
        }
    }

    /** What a non-thread-safe call from the worker did: the exception's type and message, or "no exception". */
    record Refusal(String callSoon, String setResult) {
    }

    /** The CompletableFuture bridge, both ways. */
    record Bridge(int workerGot, String completedBy, String whenCompleteRanOn, String loopFutureCompletedOn,
                  int loopGot) {
    }

    /** runInExecutor with a blocking call that waits for the loop's heartbeats. */
    record Offload(String ranOn, boolean released, int beats, String resultOn) {
    }

    /** Everything the JVM side measured. */
    record JvmSide(List<Refusal> refusals, Prompt threadsafe, Prompt futureThreadsafe, Bridge bridge,
                   Offload offload) {
    }

    private ThreadsAndLoopJvm() {
    }

    static JvmSide run(RunContext ctx, int timerMs, int rounds) throws Exception {
        List<Refusal> refusals = new ArrayList<>();
        List<Round> threadsafe = new ArrayList<>();
        List<Round> futureThreadsafe = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            ctx.checkCancelled();
            refusals.add(refusal());
            threadsafe.add(threadsafe(timerMs, false));
            futureThreadsafe.add(threadsafe(timerMs, true));
            ctx.progress(0.05 + 0.35 * (r + 1) / rounds, "JVM: round " + (r + 1) + " of " + rounds);
        }
        JvmSide jvm = new JvmSide(refusals, new Prompt(threadsafe), new Prompt(futureThreadsafe), bridge(),
                offload());
        judge(ctx, jvm, timerMs, rounds);
        return jvm;
    }

    private static void judge(RunContext ctx, JvmSide jvm, int timerMs, int rounds) {
        long refused = jvm.refusals().stream().filter(r -> r.callSoon().startsWith("IllegalStateException")
                && r.setResult().startsWith("IllegalStateException")).count();
        ctx.claim(ThreadsAndLoop.JVM_FOREIGN_REFUSED, Verdict.check(refused == rounds, String.format(
                "both calls from the worker threw IllegalStateException in %d of %d rounds (needs all); callSoon:"
                        + " \"%s\"; setResult: \"%s\"", refused, rounds, jvm.refusals().getFirst().callSoon(),
                jvm.refusals().getFirst().setResult())));
        prompt(ctx, ThreadsAndLoop.JVM_THREADSAFE, jvm.threadsafe(), "loop.callSoonThreadsafe(cb)", timerMs,
                rounds);
        prompt(ctx, ThreadsAndLoop.JVM_FUTURE_THREADSAFE, jvm.futureThreadsafe(),
                "loop.callSoonThreadsafe(() -> future.setResult(42)), a task awaiting the future", timerMs, rounds);
        Bridge b = jvm.bridge();
        ctx.claim(ThreadsAndLoop.JVM_COMPLETABLE_FUTURE, Verdict.check(b.workerGot() == 42 && b.loopGot() == 42
                        && b.completedBy().equals(LOOP_THREAD) && b.whenCompleteRanOn().equals("worker")
                        && b.loopFutureCompletedOn().equals(LOOP_THREAD),
                String.format("loop → worker: the worker's get() returned %d, completed on %s; worker → loop:"
                                + " whenComplete's action ran on thread %s, the loop future was completed on %s and the loop saw %d (needs 42 both ways, completed on the loop thread, whenComplete"
                                + " on worker, the loop future on the loop thread)", b.workerGot(), b.completedBy(),
                        b.whenCompleteRanOn(), b.loopFutureCompletedOn(), b.loopGot())));
        Offload o = jvm.offload();
        ctx.claim(ThreadsAndLoop.JVM_RUN_IN_EXECUTOR, Verdict.check(o.ranOn().startsWith("blocking-pool")
                        && o.released() && o.beats() >= ThreadsAndLoop.BEATS && o.resultOn().equals(LOOP_THREAD),
                String.format("the blocking call ran on thread %s and stayed blocked until the loop had run %d"
                                + " heartbeats (released: %s); its result arrived on %s (needs a pool thread,"
                                + " ≥ %d heartbeats, and the loop thread)", o.ranOn(), o.beats(), o.released(),
                        o.resultOn(), ThreadsAndLoop.BEATS)));
    }

    private static void prompt(RunContext ctx, ClaimSpec claim, Prompt p, String how,
                               int timerMs, int rounds) {
        double bound = ThreadsAndLoop.PROMPT_FRACTION * timerMs;
        ctx.claim(claim, Verdict.check(p.rounds().size() == rounds && p.afterTimer() == 0 && p.maxMs() <= bound,
                String.format("%s, posted once the loop thread was inside Selector.select: the effect came %.2f–%.2f"
                                + " ms after the call, before the %d ms timer in %d of %d rounds (needs all, each ≤"
                                + " %.0f ms)", how, p.minMs(), p.maxMs(), timerMs, rounds - p.afterTimer(), rounds,
                        bound)));
    }

    // ---- the steps ---------------------------------------------------------------------------------------------

    /** Broken: a worker calls {@code callSoon} and {@code LoopFuture.setResult} while the loop runs. */
    private static Refusal refusal() throws InterruptedException {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("event-loop").build()) {
            LoopFuture<Refusal> reported = loop.createFuture("worker's report");
            LoopFuture<Integer> future = loop.createFuture("set from the worker");
            Thread[] worker = new Thread[1];
            loop.callSoon("start the worker", () -> worker[0] = Thread.ofPlatform().name("worker").start(() -> {
                // The loop is running: it waits in runUntilComplete for this worker's report.
                String callSoon = attempt(() -> loop.callSoon("from the worker", () -> { }));
                String setResult = attempt(() -> future.setResult(42));
                Refusal refusal = new Refusal(callSoon, setResult);
                loop.callSoonThreadsafe("report", () -> reported.setResult(refusal));
            }));
            Refusal refusal = loop.runUntilComplete(reported);
            worker[0].join();
            return refusal;
        }
    }

    private static String attempt(Runnable call) {
        try {
            call.run();
            return "no exception";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /**
     * A worker waits until the loop thread is inside {@code Selector.select} (its only timer is due in
     * {@code timerMs}), then posts with {@code callSoonThreadsafe}: either a callback, or the completion of a future
     * that a task awaits.
     */
    private static Round threadsafe(int timerMs, boolean viaFuture) throws InterruptedException {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("event-loop").build()) {
            // Confined to the loop thread.
            var state = new Object() {
                boolean timerFired;
            };
            long[] called = new long[1];
            LoopFuture<Round> effect = loop.createFuture("effect");
            Runnable record = () -> effect.setResult(new Round((System.nanoTime() - called[0]) / 1e6,
                    state.timerFired));
            LoopFuture<Integer> future = loop.createFuture("set by the worker");
            if (viaFuture) {
                loop.createTask("awaits the future", awaiting(future, record));
            }
            // The worker is started, and known to be running, before the timer is scheduled: however slowly the
            // machine starts threads, it is watching for the select before the loop can get there.
            Thread loopThread = Thread.currentThread();
            CountDownLatch started = new CountDownLatch(1);
            Thread worker = Thread.ofPlatform().name("worker").start(() -> {
                started.countDown();
                try {
                    awaitInSelect(loopThread);
                } catch (IllegalStateException stuck) {
                    loop.callSoonThreadsafe("report", () -> effect.setException(stuck)); // ends the round
                    return;
                }
                called[0] = System.nanoTime();
                if (viaFuture) {
                    loop.callSoonThreadsafe("set the future", () -> future.setResult(42));
                } else {
                    loop.callSoonThreadsafe("callback", record);
                }
            });
            if (!started.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("stuck: the worker thread did not start");
            }
            loop.callLater(Duration.ofMillis(timerMs), "timer", () -> state.timerFired = true);
            Round round = loop.runUntilComplete(effect);
            worker.join();
            return round;
        }
    }

    /** A coroutine that awaits {@code future}, then runs {@code then}. */
    private static Coroutine<Void> awaiting(LoopFuture<Integer> future, Runnable then) {
        return new Coroutine<>() {
            private int state;

            @Override
            public Step<Void> resume(Outcome<?> outcome) {
                outcome.orThrow();
                return switch (state++) {
                    case 0 -> Step.await(future);
                    case 1 -> {
                        then.run();
                        yield Step.done(null);
                    }
                    default -> throw new IllegalStateException("resumed after done");
                };
            }
        };
    }

    /**
     * Busy-waits (parking 0.1 ms at a time) until {@code loopThread}'s stack shows it inside
     * {@code Selector.select(timeout)} or {@code select()}, the calls in which the loop sleeps ({@code selectNow},
     * used when callbacks are ready, does not count).
     */
    private static void awaitInSelect(Thread loopThread) {
        long deadline = System.nanoTime() + STUCK_NANOS;
        while (!inSelect(loopThread)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("stuck: the loop thread never entered Selector.select");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static boolean inSelect(Thread thread) {
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getClassName().equals("sun.nio.ch.SelectorImpl") && frame.getMethodName().equals("select")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The CompletableFuture bridge. Loop → worker: the worker posts work with {@code callSoonThreadsafe} and blocks
     * on a CompletableFuture that the loop callback completes. Worker → loop: the worker completes a
     * CompletableFuture; its {@code whenComplete} action (which runs on the completing thread) hands the value to
     * the loop with {@code callSoonThreadsafe}.
     */
    private static Bridge bridge() throws Exception {
        try (SelectorEventLoop loop = SelectorEventLoop.builder().name("event-loop").build()) {
            LoopFuture<Integer> onLoop = loop.createFuture("value from the worker");
            String[] threads = new String[3];
            CompletableFuture<Integer> fromWorker = new CompletableFuture<>();
            fromWorker.whenComplete((value, error) -> {
                threads[1] = who(loop);
                loop.callSoonThreadsafe("hand over", () -> {
                    threads[2] = who(loop);
                    onLoop.setResult(value);
                });
            });
            int[] workerGot = new int[1];
            Thread[] worker = new Thread[1];
            loop.callSoon("start the worker", () -> worker[0] = Thread.ofPlatform().name("worker").start(() -> {
                CompletableFuture<Integer> answer = new CompletableFuture<>();
                loop.callSoonThreadsafe("answer the worker", () -> {
                    threads[0] = who(loop);
                    answer.complete(42);
                });
                try {
                    workerGot[0] = answer.get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    workerGot[0] = -1;
                }
                fromWorker.complete(42);
            }));
            int loopGot = loop.runUntilComplete(onLoop);
            worker[0].join();
            // threads[0..2] were written before the loop future completed or before the worker ended: both are
            // happens-before this point (runUntilComplete returned; join).
            return new Bridge(workerGot[0], threads[0], threads[1], threads[2], loopGot);
        }
    }

    /** runInExecutor: the blocking call waits until the loop has run {@code BEATS} heartbeats. */
    private static Offload offload() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("blocking-pool-", 0).daemon(true).factory());
        try (pool; SelectorEventLoop loop = SelectorEventLoop.builder().name("event-loop").build()) {
            CountDownLatch enough = new CountDownLatch(1);
            var state = new Object() {
                int beats;
                String resultOn;
            };
            LoopFuture<Offload> done = loop.createFuture("offload done");
            loop.callSoon("offload", () -> {
                LoopFuture<String[]> blocking = loop.runInExecutor(pool, () -> {
                    boolean released = enough.await(10, TimeUnit.SECONDS); // a blocking call, off the loop
                    return new String[]{Thread.currentThread().getName(), Boolean.toString(released)};
                });
                loop.callSoon("heartbeat", new Runnable() {
                    @Override
                    public void run() {
                        if (++state.beats >= ThreadsAndLoop.BEATS) {
                            enough.countDown();
                        } else {
                            loop.callLater(Duration.ofMillis(1), "heartbeat", this);
                        }
                    }
                });
                blocking.addDoneCallback(f -> {
                    state.resultOn = who(loop);
                    String[] r = f.result();
                    done.setResult(new Offload(r[0], Boolean.parseBoolean(r[1]), state.beats, state.resultOn));
                });
            });
            return loop.runUntilComplete(done);
        }
    }

    /** "the loop thread" on {@code loop}'s thread, else the calling thread's name. */
    private static String who(SelectorEventLoop loop) {
        return loop.inLoopThread() ? LOOP_THREAD : Thread.currentThread().getName();
    }
}
