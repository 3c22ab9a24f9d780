package dev.conclab.lab.experiments.debugging;

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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Detecting a race by stress: run the racy code many times on threads released together, count the lost updates
 * of every run, and report in how many runs the race showed.
 *
 * <p><b>Broken:</b> {@code count++} on a {@code volatile} field: a read then a write, so two threads that read the
 * same value both write it plus one and an update is lost. {@code volatile} makes every write visible, not the pair
 * atomic. <b>Correct:</b> {@link AtomicLong#incrementAndGet()}, one atomic step.
 *
 * <p>Unlike {@code race-conditions}, which forces the bad interleaving with a barrier before every increment, this
 * harness does not force anything: it shows what a stress test finds on its own, and how the size of each run
 * decides whether one run is enough. A run that finds nothing proves nothing; the detection rate over many runs is
 * the measurement. lincheck searches the interleavings instead: {@code RaceStressLinearizabilityTest} runs its model
 * checker on these two counters and must find a lost update in the volatile one and none in the atomic one.
 *
 * <p>Run: {@code ./conclab run race-stress}. The detection claim needs two cores running at once.
 */
public final class RaceStressHarness implements Experiment {

    static final ClaimSpec STRESS_FINDS_RACE = new ClaimSpec("stress-finds-race",
            "A stress harness running count++ on a volatile field from 2 threads released together finds lost"
                    + " updates in at least one of its runs, where a single run may find none (needs 2 cores).");
    static final ClaimSpec ATOMIC_NEVER_LOSES = new ClaimSpec("atomic-never-loses",
            "The same harness on AtomicLong.incrementAndGet finds no lost update in any run.");

    static final ClaimSpec PY_LOCK_NEVER_LOSES = new ClaimSpec("py-lock-never-loses",
            "In CPython, the same harness on counter += 1 under a threading.Lock finds no lost update in any run.");

    private static final int THREADS = 2;
    private static final int SHORT_RUN = 100;

    /**
     * The counter under test: one increment returning the count it wrote, and the value at the end. Thread safety
     * depends on the implementation. Package-private for {@code RaceStressLinearizabilityTest}.
     */
    interface Counter {
        long increment();

        long value();
    }

    /** Broken: a read then a write of a volatile field. Not atomic. */
    static final class VolatileCounter implements Counter {
        private volatile long count;

        @Override
        @SuppressWarnings("NonAtomicOperationOnVolatileField") // the race under test
        public long increment() {
            return ++count;
        }

        @Override
        public long value() {
            return count;
        }
    }

    /** Correct: one atomic read-modify-write. Thread-safe. */
    static final class AtomicCounter implements Counter {
        private final AtomicLong count = new AtomicLong();

        @Override
        public long increment() {
            return count.incrementAndGet();
        }

        @Override
        public long value() {
            return count.get();
        }
    }

    private record Detection(int runs, int runsWithLoss, long mostLost) {
        double rate() {
            return runsWithLoss / (double) runs;
        }
    }

    @Override
    public String id() {
        return "race-stress";
    }

    @Override
    public String title() {
        return "Finding a race with a stress harness: lost updates counted over many runs";
    }

    @Override
    public String description() {
        return "Runs count++ on a volatile field and AtomicLong.incrementAndGet from two threads released together,"
                + " many times, counts lost updates per run and reports the detection rate.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("runs", "stress runs per variant", 5, 10_000, 200, 40),
                new Param.IntParam("increments", "increments per thread in each run", 1_000, 10_000_000, 2_000_000,
                        500_000),
                new Param.IntParam("py-increments", "CPython increments per thread in each run", 100, 10_000_000,
                        100_000, 20_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(STRESS_FINDS_RACE, ATOMIC_NEVER_LOSES, PY_LOCK_NEVER_LOSES);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int runs = ctx.intParam("runs");
        int increments = ctx.intParam("increments");
        ctx.progress(0.1, "volatile count++");
        Detection broken = stress(ctx, runs, increments, VolatileCounter::new);
        ctx.progress(0.5, "short runs");
        Detection brokenShort = stress(ctx, runs, SHORT_RUN, VolatileCounter::new);
        ctx.progress(0.7, "AtomicLong");
        Detection fixed = stress(ctx, runs, increments, AtomicCounter::new);
        ctx.table(Table.builder("Stress harness: " + THREADS + " threads released together, lost updates per run",
                        "counter", "increments per thread", "runs", "runs with lost updates", "detection rate",
                        "most lost in one run")
                .row("volatile count++ (broken)", increments, broken.runs(), broken.runsWithLoss(), broken.rate(),
                        broken.mostLost())
                .row("volatile count++ (broken), short runs", SHORT_RUN, brokenShort.runs(),
                        brokenShort.runsWithLoss(), brokenShort.rate(), brokenShort.mostLost())
                .row("AtomicLong.incrementAndGet (correct)", increments, fixed.runs(), fixed.runsWithLoss(),
                        fixed.rate(), fixed.mostLost())
                .build());
        if (ctx.requireCores(STRESS_FINDS_RACE, 2)) {
            ctx.claim(STRESS_FINDS_RACE, Verdict.check(broken.runsWithLoss() >= 1, String.format(
                    "lost updates in %d of %d runs (%.0f%%, needs ≥ 1 run); at most %d lost in one run",
                    broken.runsWithLoss(), broken.runs(), broken.rate() * 100, broken.mostLost())));
        }
        ctx.claim(ATOMIC_NEVER_LOSES, Verdict.check(fixed.runsWithLoss() == 0, String.format(
                "lost updates in %d of %d runs of %d × %d increments", fixed.runsWithLoss(), fixed.runs(), THREADS,
                increments)));
        ctx.progress(0.8, "CPython: counter += 1 under stress");
        runProbe(ctx, Math.min(runs, 20));
        ctx.progress(1, "done");
    }

    /**
     * CPython's {@code box.n += 1} under the same kind of harness, at the default switch interval and at 1 µs, and
     * under a lock. Only the lock has a claim: whether the unlocked loop loses updates depends on where the
     * interpreter's version lets a thread switch happen, which the table reports as measured.
     */
    private static void runProbe(RunContext ctx, int runs) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("race_stress.py", List.of(), Duration.ofSeconds(120),
                "--runs", Integer.toString(runs), "--threads", Integer.toString(THREADS),
                "--increments", Integer.toString(ctx.intParam("py-increments")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_LOCK_NEVER_LOSES);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                int increments = json.path("increments").asInt();
                Table.Builder table = Table.builder(String.format("CPython %s stress harness: %d threads, counter"
                                + " += 1, lost updates per run", ran.interpreter().version(), THREADS),
                        "variant", "increments per thread", "runs", "runs with lost updates", "most lost in one run");
                for (String variant : List.of("plain", "tiny_interval", "locked")) {
                    JsonNode v = json.path(variant);
                    String label = switch (variant) {
                        case "plain" -> "box.n += 1, switch interval " + json.path("switch_interval").asDouble()
                                + " s (broken)";
                        case "tiny_interval" -> "box.n += 1, switch interval 1 µs (broken)";
                        default -> "box.n += 1 under threading.Lock (correct)";
                    };
                    table.row(label, increments, runs, v.path("runs_with_loss").asInt(), v.path("most_lost").asLong());
                }
                ctx.table(table.build());
                JsonNode locked = json.path("locked");
                ctx.claim(PY_LOCK_NEVER_LOSES, Verdict.check(locked.path("runs_with_loss").asInt() == 0,
                        String.format("lost updates in %d of %d runs under the lock",
                                locked.path("runs_with_loss").asInt(), runs)));
            }
        }
    }

    /** Runs the harness {@code runs} times on a fresh counter each, counting the runs that lost updates. */
    private static Detection stress(RunContext ctx, int runs, int increments,
                                    Supplier<Counter> fresh) throws Exception {
        int withLoss = 0;
        long mostLost = 0;
        for (int run = 0; run < runs; run++) {
            ctx.checkCancelled();
            Counter counter = fresh.get();
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Thread> threads = new ArrayList<>(THREADS);
            for (int t = 0; t < THREADS; t++) {
                threads.add(Thread.ofPlatform().name("stress-", t).start(() -> {
                    try {
                        start.await(); // released together, so the loops overlap
                    } catch (Exception e) {
                        throw new IllegalStateException("stress thread not released", e);
                    }
                    for (int i = 0; i < increments; i++) {
                        counter.increment();
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            long lost = (long) THREADS * increments - counter.value();
            if (lost > 0) {
                withLoss++;
                mostLost = Math.max(mostLost, lost);
            }
        }
        return new Detection(runs, withLoss, mostLost);
    }
}
