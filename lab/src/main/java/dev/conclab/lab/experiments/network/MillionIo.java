package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One million I/O operations: which model gets them done in about the ideal time, and what an operation in flight
 * costs. Each operation is a simulated I/O wait of L ms (in-process, so the network is not what is measured), and at
 * most C are in flight at once, so no model can beat the ideal {@code ops × L ÷ C}.
 *
 * <ol>
 *   <li><b>Virtual threads.</b> A virtual thread per operation ({@code newVirtualThreadPerTaskExecutor}), each
 *       {@code Thread.sleep(L)}, a {@link Semaphore}(C) taken before each start. A sleeping virtual thread is
 *       unmounted: its stack is a few hundred bytes on the heap and its carrier serves others.</li>
 *   <li><b>Async.</b> The callback model: an operation is a {@link CompletableFuture} that a
 *       {@link ScheduledExecutorService} completes after L; C chains, each starting its next operation when the last
 *       one completes ({@code thenCompose}). No thread waits at all.</li>
 *   <li><b>A bounded platform pool</b> of P threads, each sleeping through one operation after another: at most P
 *       in flight, so its ideal is {@code ops × L ÷ P}, and each in-flight operation holds a whole OS thread.</li>
 *   <li><b>Memory per in-flight operation.</b> M operations of each kind are started with a wait of an hour and
 *       held in flight; the heap after a full GC (and, for the platform threads' native stacks, the process's
 *       resident set net of the committed heap) is read before and during, divided by M; then they are all
 *       cancelled.</li>
 * </ol>
 * CPython ({@code million_io.py}): {@code asyncio.sleep(L)} behind an {@code asyncio.Semaphore(C)} under
 * {@code asyncio.gather}, with the default loop and with uvloop, a smaller count, the time against the same ideal.
 *
 * <p>Run: {@code ./conclab run million-io} (the full million: about 10 s per model at C = 1000) or
 * {@code --quick} (20,000 operations). Expect virtual threads and the async chains within a few per cent of the
 * ideal, the platform pool at its own ideal, a parked virtual thread at about a kilobyte of heap, a pending
 * future at a few hundred bytes, a platform thread at tens of kilobytes of native memory, and CPython's one loop
 * thread far behind the ideal at C = 1000, where it must run 100,000 operations a second.
 */
public final class MillionIo implements Experiment {

    static final ClaimSpec VIRTUAL_IDEAL = new ClaimSpec("virtual-ideal",
            "On virtual threads, ops simulated I/O waits of L ms with C in flight finish within 1.2× the ideal ops × L"
                    + " ÷ C (quick mode, a small count: 3×).");
    static final ClaimSpec ASYNC_IDEAL = new ClaimSpec("async-ideal",
            "As CompletableFuture chains completed by a ScheduledExecutorService, the same waits finish within 1.2×"
                    + " the ideal (quick mode: 3×).");
    static final ClaimSpec POOL_BOUND = new ClaimSpec("pool-bound",
            "A platform pool of P threads can never beat ops × L ÷ P, and finishes within 1.5× of it (quick mode: 3×).");
    static final ClaimSpec MEMORY = new ClaimSpec("memory",
            "An operation in flight costs under 4 KB of heap as a parked virtual thread, under 1 KB as a pending"
                    + " future, and at least 8 KB of resident memory as a sleeping platform thread.");
    static final ClaimSpec PY_ASYNCIO = new ClaimSpec("py-asyncio",
            "asyncio.sleep behind an asyncio.Semaphore(C) never beats the ideal, and at C = 1000 its one loop thread"
                    + " ends farther from the ideal than virtual threads do.");

    private static final long HOUR_MS = 3_600_000;

    @Override
    public String id() {
        return "million-io";
    }

    @Override
    public String title() {
        return "One million I/O operations: virtual threads, CompletableFuture chains and a platform pool against the"
                + " ideal ops × latency ÷ concurrency, and memory per operation in flight";
    }

    @Override
    public String description() {
        return "Runs ops simulated I/O waits of L ms with at most C in flight on virtual threads, on CompletableFuture"
                + " chains completed by a scheduler, and on a pool of P platform threads; compares each with the"
                + " ideal ops × L ÷ C and measures the heap and resident memory per operation in flight; CPython runs"
                + " asyncio.sleep behind a Semaphore, with and without uvloop.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("ops", "simulated I/O operations", 1_000, 5_000_000, 1_000_000, 20_000),
                new Param.IntParam("latency-ms", "how long each operation waits (L)", 1, 1_000, 10, 10),
                new Param.IntParam("concurrency", "operations in flight at most (C)", 1, 100_000, 1_000, 1_000),
                new Param.IntParam("platform-threads", "threads of the platform pool (P)", 1, 4_000, 1_000, 1_000),
                new Param.IntParam("held", "operations held in flight to weigh their memory (M)", 100, 1_000_000,
                        100_000, 10_000),
                new Param.IntParam("python-ops", "operations on the CPython side", 100, 1_000_000, 100_000, 2_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(VIRTUAL_IDEAL, ASYNC_IDEAL, POOL_BOUND, MEMORY, PY_ASYNCIO);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(60);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int ops = ctx.intParam("ops");
        int latency = ctx.intParam("latency-ms");
        int c = ctx.intParam("concurrency");
        int p = ctx.intParam("platform-threads");
        int held = ctx.intParam("held");
        // A full run is one million operations per model: once is enough, and its length averages out noise.
        int repeats = ctx.quick() ? ctx.repeats() : 1;
        double ideal = (double) ops * latency / c;
        double poolIdeal = (double) ops * latency / p;
        double limit = ctx.quick() ? 3.0 : 1.2;
        // Quick: P OS threads each waking 100 times a second on a small shared machine; the full run has 1.5×.
        double poolLimit = ctx.quick() ? 3.0 : 1.5;

        ctx.progress(0.02, "virtual threads");
        double virtual = Measure.bestOf(repeats, ctx, () -> virtualThreads(ctx, ops, latency, c)).bestMillis();
        ctx.progress(0.3, "CompletableFuture chains");
        double async = Measure.bestOf(repeats, ctx, () -> futures(ops, latency, c)).bestMillis();
        ctx.progress(0.55, "platform pool of " + p);
        double pool;
        List<Thread> poolThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
        // A pool outlives its batches: its start-up is not timed.
        try (ExecutorService threads = prestartedPool(p, poolThreads)) {
            pool = Measure.bestOf(repeats, ctx, () -> platformPool(ctx, threads, ops, latency, p)).bestMillis();
        }
        for (Thread t : poolThreads) {
            t.join(); // gone for good, so their stacks are not freed while the memory below is being weighed
        }

        ctx.progress(0.8, "memory per operation in flight");
        Weight vtWeight = weighVirtual(held);
        Weight futureWeight = weighFutures(held);
        int platformHeld = Math.min(held, p);
        Weight platformWeight = weighPlatform(platformHeld);

        Table.Builder table = Table.builder(String.format("%,d operations of %d ms, at most %d in flight (ideal %.0f"
                        + " ms); memory with M operations held in flight", ops, latency, c, ideal),
                "side", "model", "in flight", "wall ms", "runs", "ideal ms", "÷ ideal", "M held", "heap B/op",
                "native RSS B/op");
        table.row("JVM", "virtual thread per operation + Semaphore(" + c + ")", c, virtual, repeats, ideal,
                        virtual / ideal, held, vtWeight.heapPerOp(), vtWeight.rssPerOp())
                .row("JVM", "CompletableFuture chains on a ScheduledExecutorService", c, async, repeats, ideal,
                        async / ideal, held, futureWeight.heapPerOp(), futureWeight.rssPerOp())
                .row("JVM", "platform pool of " + p, p, pool, repeats, poolIdeal, pool / poolIdeal, platformHeld,
                        platformWeight.heapPerOp(), platformWeight.rssPerOp());

        ctx.claim(VIRTUAL_IDEAL, Verdict.check(virtual >= ideal && virtual <= limit * ideal, String.format(
                "%,d waits of %d ms, %d in flight, on virtual threads: %.0f ms, %.3f× the ideal %.0f ms (needs 1..%.1f×)",
                ops, latency, c, virtual, virtual / ideal, ideal, limit)));
        ctx.claim(ASYNC_IDEAL, Verdict.check(async >= ideal && async <= limit * ideal, String.format(
                "%,d waits as CompletableFuture chains: %.0f ms, %.3f× the ideal %.0f ms (needs 1..%.1f×)", ops, async,
                async / ideal, ideal, limit)));
        ctx.claim(POOL_BOUND, Verdict.check(pool >= poolIdeal && pool <= poolLimit * poolIdeal, String.format(
                "platform pool of %d: %.0f ms, %.3f× its ideal %.0f ms (needs 1..%.1f×)", p, pool, pool / poolIdeal,
                poolIdeal, poolLimit)));
        ctx.claim(MEMORY, Verdict.check(vtWeight.heapPerOp() < 4096 && futureWeight.heapPerOp() < 1024
                        && platformWeight.rssPerOp() >= 8 * 1024, String.format(
                "with %,d held: a parked virtual thread %.0f B of heap (needs < 4096), a pending future %.0f B (needs"
                        + " < 1024); with %d held: a sleeping platform thread %.0f B resident (needs ≥ 8192) and %.0f"
                        + " B of heap", held, vtWeight.heapPerOp(), futureWeight.heapPerOp(), platformHeld,
                platformWeight.rssPerOp(), platformWeight.heapPerOp())));

        ctx.progress(0.9, "CPython: million_io.py");
        python(ctx, latency, c, repeats, virtual / ideal, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    // ---- the three models ---------------------------------------------------------------------------------------

    private static void virtualThreads(RunContext ctx, int ops, int latency, int c) throws InterruptedException {
        Semaphore permits = new Semaphore(c);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < ops; i++) {
                if ((i & 0xFFFF) == 0) {
                    ctx.checkCancelled();
                }
                permits.acquire();
                executor.execute(() -> {
                    try {
                        Thread.sleep(latency); // the simulated I/O wait: the virtual thread unmounts
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        permits.release();
                    }
                });
            }
        } // close() waits for every operation
    }

    /** One simulated I/O operation in the callback model: a future the timer completes after {@code latencyMs}. */
    private static CompletableFuture<Void> simulatedIo(ScheduledExecutorService timer, long latencyMs) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        timer.schedule(() -> done.complete(null), latencyMs, TimeUnit.MILLISECONDS);
        return done;
    }

    private static void futures(int ops, int latency, int c) throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("million-io-timer").factory());
        try {
            AtomicInteger started = new AtomicInteger();
            List<CompletableFuture<Void>> chains = new ArrayList<>(c);
            for (int lane = 0; lane < Math.min(c, ops); lane++) {
                chains.add(chain(timer, started, ops, latency));
            }
            CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new)).get(1, TimeUnit.HOURS);
        } finally {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Runs operations one after another until {@code ops} have been started across all chains. */
    private static CompletableFuture<Void> chain(ScheduledExecutorService timer, AtomicInteger started, int ops,
                                                 int latency) {
        if (started.getAndIncrement() >= ops) {
            return CompletableFuture.completedFuture(null);
        }
        return simulatedIo(timer, latency).thenCompose(v -> chain(timer, started, ops, latency));
    }

    private static ExecutorService prestartedPool(int p, List<Thread> started) {
        java.util.concurrent.ThreadFactory names = Thread.ofPlatform().name("million-io-pool-", 0).factory();
        java.util.concurrent.ThreadPoolExecutor pool = (java.util.concurrent.ThreadPoolExecutor)
                Executors.newFixedThreadPool(p, task -> {
                    Thread t = names.newThread(task);
                    started.add(t);
                    return t;
                });
        pool.prestartAllCoreThreads();
        return pool;
    }

    /** Each of the P threads sleeps through one operation after another until {@code ops} have been taken. */
    private static void platformPool(RunContext ctx, ExecutorService pool, int ops, int latency, int p)
            throws InterruptedException {
        AtomicInteger taken = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(p);
        for (int t = 0; t < p; t++) {
            pool.execute(() -> {
                try {
                    while (taken.getAndIncrement() < ops && !ctx.isCancelled()) {
                        Thread.sleep(latency); // the OS thread blocks for the whole wait
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
    }

    // ---- memory per operation in flight -------------------------------------------------------------------------

    /** Bytes per operation held in flight: heap after a full GC, and the process's resident set. */
    private record Weight(double heapPerOp, double rssPerOp) {
    }

    /**
     * The heap in use, the heap committed and the resident set. A full GC may give committed heap back to the OS
     * between two snapshots, which lowers the resident set for reasons unrelated to what is weighed; the resident
     * figure is therefore taken net of the change in committed heap (what is left is native: stacks, threads).
     */
    private record Snapshot(long heap, long committed, long rss) {
        static Snapshot take() throws IOException {
            return take(true);
        }

        /** Without a GC, nothing is given back to the OS between two snapshots taken close together. */
        static Snapshot take(boolean gc) throws IOException {
            for (int i = 0; gc && i < 2; i++) {
                System.gc(); // a second pass catches what the first one's finalisation freed
            }
            java.lang.management.MemoryUsage usage = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            return new Snapshot(usage.getUsed(), usage.getCommitted(), rss);
        }

        Weight per(Snapshot before, int ops) {
            long nativeRss = (rss - before.rss) - (committed - before.committed);
            return new Weight((double) (heap - before.heap) / ops, (double) nativeRss / ops);
        }
    }

    private static Weight weighVirtual(int held) throws Exception {
        Snapshot before = Snapshot.take();
        CountDownLatch sleeping = new CountDownLatch(held);
        List<Thread> threads = new ArrayList<>(held);
        try {
            for (int i = 0; i < held; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    sleeping.countDown();
                    try {
                        Thread.sleep(HOUR_MS);
                    } catch (InterruptedException e) {
                        // cancelled: the operation ends
                    }
                }));
            }
            sleeping.await();
            awaitParked(threads);
            return Snapshot.take().per(before, held);
        } finally {
            stop(threads);
        }
    }

    private static Weight weighPlatform(int held) throws Exception {
        // The resident set is read without a GC in between (a GC may give memory back to the OS, which would
        // hide the threads' stacks); the heap is read after a GC, as for the other kinds.
        Snapshot beforeGc = Snapshot.take();
        Thread.sleep(300); // G1 gives shrunk heap back in the background just after a GC: let it finish first
        Snapshot before = Snapshot.take(false);
        List<Thread> threads = new ArrayList<>(held);
        try {
            for (int i = 0; i < held; i++) {
                threads.add(Thread.ofPlatform().name("million-io-held-" + i).start(() -> {
                    try {
                        Thread.sleep(HOUR_MS);
                    } catch (InterruptedException e) {
                        // cancelled: the operation ends
                    }
                }));
            }
            awaitParked(threads);
            Weight resident = Snapshot.take(false).per(before, held);
            return new Weight(Snapshot.take().per(beforeGc, held).heapPerOp(), resident.rssPerOp());
        } finally {
            stop(threads);
        }
    }

    private static Weight weighFutures(int held) throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("million-io-held-timer").factory());
        try {
            timer.submit(() -> { }).get(); // start the timer's thread before the first snapshot
            Snapshot before = Snapshot.take();
            List<CompletableFuture<Void>> pending = new ArrayList<>(held);
            for (int i = 0; i < held; i++) {
                pending.add(simulatedIo(timer, HOUR_MS).thenRun(() -> { })); // the continuation is part of the cost
            }
            Weight weight = Snapshot.take().per(before, held);
            pending.clear();
            return weight;
        } finally {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Waits until every thread is in its timed wait, so its stack has been saved (virtual) or touched (platform). */
    private static void awaitParked(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            while (t.getState() != Thread.State.TIMED_WAITING) {
                if (!t.isAlive()) {
                    throw new IllegalStateException(t + " ended before it was weighed");
                }
                Thread.sleep(1);
            }
        }
    }

    private static void stop(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int latency, int c, int repeats, double virtualRatio,
                               Table.Builder table) throws Exception {
        int pyOps = ctx.intParam("python-ops");
        double ideal = (double) pyOps * latency / c;
        List<String> args = new ArrayList<>(List.of("--ops", Integer.toString(pyOps), "--latency-ms",
                Integer.toString(latency), "--concurrency", Integer.toString(c), "--repeat",
                Integer.toString(ctx.quick() ? 1 : repeats)));
        if (!ctx.quick()) {
            args.add("--low");
        }
        long budget = 60_000 + (long) (40 * ideal * repeats);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("million_io.py", List.of(), Duration.ofMillis(budget),
                args.toArray(String[]::new));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_ASYNCIO);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode j = ran.json();
                String py = "CPython " + ran.interpreter().version();
                StringBuilder detail = new StringBuilder();
                boolean neverBeats = true;
                for (String loop : List.of("asyncio", "asyncio_low", "uvloop", "uvloop_low")) {
                    JsonNode v = j.path(loop);
                    if (!v.isObject()) {
                        continue;
                    }
                    double ms = v.path("elapsed_s").asDouble() * 1e3;
                    double loopIdeal = v.path("ideal_s").asDouble() * 1e3;
                    neverBeats &= ms >= loopIdeal;
                    table.row(py, loop.replace("_low", "") + " + Semaphore(" + v.path("concurrency").asInt() + "),"
                                    + String.format(" %,d ops", pyOps), v.path("concurrency").asInt(), ms, repeats,
                            loopIdeal, ms / loopIdeal, "", "", "");
                    detail.append(String.format("%s at C = %d: %.0f ms, %.2f× its ideal %.0f ms; ", loop,
                            v.path("concurrency").asInt(), ms, ms / loopIdeal, loopIdeal));
                }
                double asyncioRatio = j.path("asyncio").path("elapsed_s").asDouble() * 1e3 / ideal;
                if (j.path("uvloop").isNull()) {
                    ctx.note(py + ": uvloop is not installed, so only the default loop ran");
                }
                ctx.claim(PY_ASYNCIO, Verdict.check(neverBeats && asyncioRatio > virtualRatio, detail
                        + String.format("virtual threads were %.3f× their ideal (needs: no loop below its ideal, and"
                        + " asyncio at C = %d farther from it than virtual threads)", virtualRatio, c)));
            }
        }
    }
}
