package dev.conclab.lab.experiments.asyncio;

import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.toolkit.loop.LoopFuture;
import dev.conclab.toolkit.loop.LoopStall;
import dev.conclab.toolkit.loop.SelectorEventLoop;
import dev.conclab.toolkit.loop.SlowCallback;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The JVM half of {@link CpuStarvation}: the same open-loop requests and CPU work on the toolkit's
 * {@link SelectorEventLoop}, and on virtual threads. Not thread-safe; used once by one run, which owns every loop,
 * pool and thread it starts and closes them before returning.
 */
final class CpuStarvationJvm {

    /** The variants, in the order of the table. */
    static final List<String> VARIANTS = List.of("baseline", "on-loop", "executor", "chunked", "virtual");

    /** What the JVM side measured; the lists are the debug-mode reports, as text. */
    record JvmSide(Map<String, Lateness> variants, List<String> onLoopSlow, List<String> onLoopStalls,
                   List<String> chunkedSlow, List<String> chunkedStalls) {
    }

    /** The watchdog's threshold: half debug mode's, so it catches the on-loop work while it runs. */
    private static final Duration WATCHDOG = Duration.ofMillis(50);
    /** The least CPU work, in ms when calibrated, of the debug-mode runs (twice the slow-callback duration). */
    private static final int DEBUG_WORK_MS = 200;
    /** Requests are scheduled to start this long after the variant's set-up. */
    private static final long START_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** Keeps the JIT from dropping the CPU work. */
    private static volatile long sink;

    private CpuStarvationJvm() {
    }

    static JvmSide run(RunContext ctx, int cpuMs, int chunkMs) throws Exception {
        long iterations = calibrate(cpuMs);
        long chunk = Math.max(1, iterations * chunkMs / cpuMs);
        int repeats = ctx.repeats();
        Map<String, Lateness> best = new LinkedHashMap<>();
        DebugReports onLoopDebug;
        DebugReports chunkedDebug;
        ExecutorService pool = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("cpu-pool-", 0).daemon(true).factory());
        try (pool) {
            for (int r = 0; r < repeats; r++) {
                for (String variant : VARIANTS) {
                    ctx.checkCancelled();
                    Lateness l = variant.equals("virtual") ? virtualThreads(cpuMs, iterations)
                            : onLoop(variant, cpuMs, iterations, chunk, pool, null);
                    best.merge(variant, l, (a, b) -> b.p99Ms() < a.p99Ms() ? b : a);
                }
                ctx.progress(0.02 + 0.4 * (r + 1) / repeats, "JVM: run " + (r + 1) + " of " + repeats);
            }
            // Debug mode is run with at least DEBUG_WORK_MS of work, so that a JIT that got faster since the
            // calibration cannot bring the callback under the 100 ms threshold.
            long debugIterations = Math.max(iterations, iterations * DEBUG_WORK_MS / cpuMs);
            int debugMs = Math.max(cpuMs, DEBUG_WORK_MS);
            // On a busy machine a 1 ms chunk can be descheduled for 100 ms too, so each debug run is tried up to
            // `repeats` times: the on-loop one until it is reported, the chunked one until it is not (best of
            // several runs, as for the timings).
            onLoopDebug = null;
            for (int r = 0; r < repeats && (onLoopDebug == null || onLoopDebug.slow.isEmpty()
                    || onLoopDebug.stalls.isEmpty()); r++) {
                onLoopDebug = new DebugReports();
                onLoop("on-loop", debugMs, debugIterations, chunk, pool, onLoopDebug);
            }
            chunkedDebug = null;
            for (int r = 0; r < repeats && (chunkedDebug == null || !chunkedDebug.slow.isEmpty()
                    || !chunkedDebug.stalls.isEmpty()); r++) {
                chunkedDebug = new DebugReports();
                onLoop("chunked", debugMs, debugIterations, chunk, pool, chunkedDebug);
            }
        }
        JvmSide jvm = new JvmSide(best, onLoopDebug.slowText(), onLoopDebug.stallText(), chunkedDebug.slowText(),
                chunkedDebug.stallText());
        judge(ctx, jvm, onLoopDebug, chunkedDebug, cpuMs, repeats);
        return jvm;
    }

    private static void judge(RunContext ctx, JvmSide jvm, DebugReports onLoopDebug, DebugReports chunkedDebug,
                              int cpuMs, int repeats) {
        Lateness onLoop = jvm.variants().get("on-loop");
        ctx.claim(CpuStarvation.JVM_ON_LOOP_STARVES, Verdict.check(onLoop.p99Ms() >= 0.8 * onLoop.handlerMs(),
                String.format("CPU-bound callback on the toolkit loop ran %.1f ms; the other requests' p99 lateness"
                                + " was %.1f ms (%.2f× its run time; p50 %.1f ms, max %.1f ms; baseline p99 %.1f ms);"
                                + " smallest p99 of %d runs (needs ≥ 0.8×)", onLoop.handlerMs(), onLoop.p99Ms(),
                        onLoop.p99Ms() / onLoop.handlerMs(), onLoop.p50Ms(), onLoop.maxMs(),
                        jvm.variants().get("baseline").p99Ms(), repeats)));
        ctx.claim(CpuStarvation.JVM_RUN_IN_EXECUTOR, CpuStarvation.cure("loop.runInExecutor(one-thread pool, work)",
                jvm.variants().get("executor"), cpuMs, repeats));
        ctx.claim(CpuStarvation.JVM_CHUNKED, CpuStarvation.cure("chunks rescheduled with loop.callSoon",
                jvm.variants().get("chunked"), cpuMs, repeats));
        if (ctx.requireCores(CpuStarvation.JVM_VIRTUAL_THREADS, 2)) {
            ctx.claim(CpuStarvation.JVM_VIRTUAL_THREADS, CpuStarvation.cure("a virtual thread per request and one"
                    + " for the work", jvm.variants().get("virtual"), cpuMs, repeats));
        }
        long slowMs = SelectorEventLoop.DEFAULT_SLOW_CALLBACK_DURATION.toMillis();
        boolean slowFound = onLoopDebug.slow.stream().anyMatch(s -> s.callbackName().equals("cpu-handler")
                && s.took().toMillis() >= slowMs);
        boolean stallInWork = onLoopDebug.stalls.stream().anyMatch(s -> s.stack().stream()
                .anyMatch(f -> f.getClassName().equals(CpuStarvationJvm.class.getName())
                        && f.getMethodName().equals("burn")));
        boolean chunkedQuiet = chunkedDebug.slow.isEmpty() && chunkedDebug.stalls.isEmpty();
        ctx.claim(CpuStarvation.JVM_DEBUG_DETECTS, Verdict.check(slowFound && stallInWork && chunkedQuiet,
                String.format("debug mode (slow-callback duration %d ms), on the loop: %d slow-callback report(s)%s;"
                                + " watchdog (%d ms): %d stall(s), loop thread inside CpuStarvationJvm.burn: %s;"
                                + " chunked: %d report(s), %d stall(s) (needs a cpu-handler report ≥ %d ms, a stall"
                                + " in burn, and none for the chunks; each tried up to %d runs)", slowMs, onLoopDebug.slow.size(),
                        onLoopDebug.slow.isEmpty() ? "" : " (\"" + onLoopDebug.slow.getFirst().message() + "\")",
                        WATCHDOG.toMillis(), onLoopDebug.stalls.size(), stallInWork, chunkedDebug.slow.size(),
                        chunkedDebug.stalls.size(), slowMs, repeats)));
    }

    /** The debug-mode reports of one loop; the lists are filled on the loop and watchdog threads. */
    private static final class DebugReports {
        final List<SlowCallback> slow = Collections.synchronizedList(new ArrayList<>());
        final List<LoopStall> stalls = Collections.synchronizedList(new ArrayList<>());

        List<String> slowText() {
            synchronized (slow) {
                return slow.stream().map(SlowCallback::message).toList();
            }
        }

        List<String> stallText() {
            synchronized (stalls) {
                return stalls.stream().map(s -> String.format("%s stuck %d ms, at %s", s.callbackName(),
                        s.stalledFor().toMillis(), s.topFrame().map(StackTraceElement::toString).orElse("?")))
                        .toList();
            }
        }
    }

    /**
     * One variant on a fresh toolkit loop, run on the calling thread: requests due every {@code GAP_MS} ms as timers
     * ({@code callAt}), each recording its lateness, and (but in the baseline) a handler that starts
     * {@code LEAD_MS} ms after the first request. With {@code debug} non-null the loop runs in debug mode with a
     * watchdog, reporting into it.
     */
    private static Lateness onLoop(String variant, int cpuMs, long iterations, long chunk, ExecutorService pool,
                                   DebugReports debug) {
        SelectorEventLoop.Builder builder = SelectorEventLoop.builder().name("server-loop");
        if (debug != null) {
            builder.debug(true).slowCallbackListener(debug.slow::add).watchdog(WATCHDOG, debug.stalls::add);
        }
        try (SelectorEventLoop loop = builder.build()) {
            int count = (cpuMs + 2 * CpuStarvation.LEAD_MS) / CpuStarvation.GAP_MS;
            long gap = TimeUnit.MILLISECONDS.toNanos(CpuStarvation.GAP_MS);
            long[] lateness = new long[count];
            // Confined to the loop thread, like everything the callbacks touch.
            var state = new Object() {
                int served;
                boolean handlerDone = variant.equals("baseline");
                long handlerStart;
                long handlerEnd;
            };
            LoopFuture<Void> done = loop.createFuture("all requests served");
            Runnable finishIfDone = () -> {
                if (state.served == count && state.handlerDone && !done.isDone()) {
                    done.setResult(null);
                }
            };
            Runnable handlerFinished = () -> {
                state.handlerEnd = System.nanoTime();
                state.handlerDone = true;
                finishIfDone.run();
            };
            long start = loop.time() + START_DELAY_NANOS;
            for (int i = 0; i < count; i++) {
                long due = start + i * gap;
                loop.callAt(due, "request", () -> {
                    lateness[state.served++] = loop.time() - due;
                    finishIfDone.run();
                });
            }
            if (!variant.equals("baseline")) {
                loop.callAt(start + TimeUnit.MILLISECONDS.toNanos(CpuStarvation.LEAD_MS), "cpu-handler", () -> {
                    state.handlerStart = System.nanoTime();
                    switch (variant) {
                        case "on-loop" -> {
                            burn(iterations); // Broken: CPU work inside a callback; nothing else runs meanwhile
                            handlerFinished.run();
                        }
                        case "executor" -> loop.runInExecutor(pool, () -> burn(iterations))
                                .addDoneCallback(f -> handlerFinished.run());
                        case "chunked" -> loop.callSoon("cpu-handler chunk", new Runnable() {
                            private long left = iterations;

                            @Override
                            public void run() {
                                long step = Math.min(chunk, left);
                                burn(step);
                                left -= step;
                                if (left > 0) {
                                    loop.callSoon("cpu-handler chunk", this); // the yield point: due timers run first
                                } else {
                                    handlerFinished.run();
                                }
                            }
                        });
                        default -> throw new IllegalArgumentException("no such variant: " + variant);
                    }
                });
            }
            loop.runUntilComplete(done);
            return Lateness.of(lateness, variant.equals("baseline") ? 0
                    : (state.handlerEnd - state.handlerStart) / 1e6);
        }
    }

    /** The same requests and work with no loop: a virtual thread per request, one more for the work. */
    private static Lateness virtualThreads(int cpuMs, long iterations) {
        int count = (cpuMs + 2 * CpuStarvation.LEAD_MS) / CpuStarvation.GAP_MS;
        long gap = TimeUnit.MILLISECONDS.toNanos(CpuStarvation.GAP_MS);
        long[] lateness = new long[count];
        long[] handler = new long[2];
        long start = System.nanoTime() + START_DELAY_NANOS;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                int index = i;
                long due = start + i * gap;
                threads.execute(() -> {
                    parkUntil(due);
                    lateness[index] = System.nanoTime() - due;
                });
            }
            threads.execute(() -> {
                parkUntil(start + TimeUnit.MILLISECONDS.toNanos(CpuStarvation.LEAD_MS));
                handler[0] = System.nanoTime();
                burn(iterations);
                handler[1] = System.nanoTime();
            });
        } // close() waits for every thread: their writes happen-before this point
        return Lateness.of(lateness, (handler[1] - handler[0]) / 1e6);
    }

    private static void parkUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    /** Iterations of {@link #burn} that take about {@code cpuMs} alone, after a warm-up (best of three). */
    private static long calibrate(int cpuMs) {
        long probe = 2_000_000;
        for (int i = 0; i < 5; i++) {
            burn(probe); // warm-up: let the JIT compile burn before it is timed
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            burn(probe);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return Math.max(1, probe * TimeUnit.MILLISECONDS.toNanos(cpuMs) / best);
    }

    /** Pure CPU work: {@code n} steps of a small modular recurrence, as the probe's {@code burn}. */
    static long burn(long n) {
        long acc = 0;
        for (long i = 0; i < n; i++) {
            acc = (acc * 31 + i) % 1_000_003;
        }
        sink = acc;
        return acc;
    }
}
