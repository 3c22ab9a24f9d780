package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How CPython threads take turns with the GIL, seen from a thread that wakes up: how late does it get to run?
 *
 * <p>Since Python 3.2 the GIL is handed over on demand: a thread that wants it waits up to one <em>switch
 * interval</em> ({@code sys.getswitchinterval()}, 5 ms by default); if the holder has not let go by then, the
 * waiter sets a "drop request" that the holder honours at its next bytecode boundary. A thread blocked in
 * {@code time.sleep}, a socket read or other blocking I/O has released the GIL, so others run meanwhile — that is
 * how threads give CPython concurrency — but when it wakes it must take the GIL back before its next bytecode.
 *
 * <ol>
 *   <li><b>BASELINE — alone.</b> A CPython thread sleeps {@code sleep-us} µs, {@code wakeups} times, and records how
 *       much later than requested it runs again. Only the OS timer's slack: well under a millisecond.</li>
 *   <li><b>Beside a CPU-bound thread.</b> A pure-Python loop spins in a second thread. Each time the sleeper wakes,
 *       the spinner holds the GIL and keeps it for a whole switch interval: the sleeper is about 5 ms late every
 *       time (the "convoy effect" of I/O threads behind a CPU-bound one).</li>
 *   <li><b>Beside it, with {@code sys.setswitchinterval(0.0005)}.</b> The waiter asks sooner, so it is late by about
 *       the shorter interval — at the price of more hand-overs for the CPU-bound thread.</li>
 *   <li><b>JVM.</b> A platform thread sleeps beside a CPU-bound platform thread. There is no global lock: with two
 *       cores the sleeper wakes on the free one, as late as alone.</li>
 * </ol>
 *
 * <p>Delays are medians and 90th percentiles over all wake-ups. The JVM side takes the lowest median of
 * {@code ctx.repeats()} interleaved rounds of each variant, so a slow spell of the shared machine does not land on
 * only one of them.
 *
 * <p>Run: {@code ./conclab run gil-handoff}. Expect about 0.1 ms alone, about 5 ms beside the CPU thread, about
 * 0.6 ms with the 0.5 ms interval; and about 0.1 ms both ways on the JVM.
 */
public final class GilHandoff implements Experiment {

    static final ClaimSpec PY_CONVOY = new ClaimSpec("py-convoy",
            "Beside a pure-Python CPU-bound thread, a CPython thread waking from sleep is at least 3× later"
                    + " (median) than alone.");
    static final ClaimSpec PY_ONE_INTERVAL = new ClaimSpec("py-one-interval",
            "Beside the CPU-bound thread, the median wake-up delay is at least half of sys.getswitchinterval():"
                    + " the woken thread waits about one switch interval for the GIL.");
    static final ClaimSpec PY_SHORT_INTERVAL = new ClaimSpec("py-short-interval",
            "With sys.setswitchinterval(0.0005), the median delay beside the CPU-bound thread is at least 3× smaller"
                    + " than with the default interval.");
    static final ClaimSpec JVM_NO_CONVOY = new ClaimSpec("jvm-no-convoy",
            "On the JVM, a thread waking from sleep beside a CPU-bound thread is at most 3× later (median) than"
                    + " alone (needs 2 cores).");

    /** The CPU-bound thread checks its stop flag after each slice of this many rounds (about 10 µs). */
    private static final long SPIN_SLICE = 20_000;

    @Override
    public String id() {
        return "gil-handoff";
    }

    @Override
    public String title() {
        return "How late a sleeping thread wakes: alone, beside a CPU-bound thread, CPython vs JVM";
    }

    @Override
    public String description() {
        return "A thread sleeps briefly many times and measures how late it runs again: alone, beside a pure-Python"
                + " CPU-bound thread (the GIL makes it wait one switch interval), with a shorter switch interval,"
                + " and on the JVM, which has no GIL.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("wakeups", "sleeps per variant (medians are taken over them)", 5, 100_000, 200,
                        40),
                new Param.IntParam("sleep-us", "how long each sleep asks for, in µs", 100, 100_000, 1_000, 1_000),
                new Param.IntParam("short-interval-us", "the shorter CPython switch interval, in µs", 50, 100_000,
                        500, 500));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_CONVOY, PY_ONE_INTERVAL, PY_SHORT_INTERVAL, JVM_NO_CONVOY);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int wakeups = ctx.intParam("wakeups");
        int sleepMicros = ctx.intParam("sleep-us");
        Table.Builder table = Table.builder("Wake-up delay beyond a " + sleepMicros + " µs sleep (" + wakeups
                        + " wake-ups per variant)", "runtime", "beside the sleeper", "switch interval ms",
                "median ms", "p90 ms", "max ms");

        ctx.progress(0.05, "CPython: alone, beside a CPU-bound thread, with a shorter switch interval");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gil_handoff.py", List.of(), Duration.ofSeconds(120),
                "--wakeups", Integer.toString(wakeups),
                "--sleep-us", Integer.toString(sleepMicros),
                "--short-interval-us", Integer.toString(ctx.intParam("short-interval-us")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_CONVOY, PY_ONE_INTERVAL, PY_SHORT_INTERVAL);
            case ProbeOutcome.Ran ran -> judgePython(ctx, ran.json(), table);
        }

        ctx.progress(0.6, "JVM: alone and beside a CPU-bound thread");
        double alone = Double.MAX_VALUE;
        double beside = Double.MAX_VALUE;
        Delays aloneBest = null;
        Delays besideBest = null;
        for (int i = 0; i < ctx.repeats(); i++) {
            ctx.checkCancelled();
            Delays a = Delays.sleeping(wakeups, sleepMicros);
            Delays b = besideSpinner(wakeups, sleepMicros);
            if (a.median() < alone) {
                alone = a.median();
                aloneBest = a;
            }
            if (b.median() < beside) {
                beside = b.median();
                besideBest = b;
            }
            ctx.progress(0.6 + 0.4 * (i + 1) / ctx.repeats(), "JVM, round " + (i + 1));
        }
        table.row("JVM", "nothing", "—", aloneBest.median(), aloneBest.p90(), aloneBest.max())
                .row("JVM", "a CPU-bound platform thread", "—", besideBest.median(), besideBest.p90(),
                        besideBest.max());
        if (ctx.requireCores(JVM_NO_CONVOY, 2)) {
            ctx.claim(JVM_NO_CONVOY, Verdict.atMost(String.format(
                    "JVM median delay beside a CPU-bound thread %.3f ms vs alone %.3f ms (lowest of %d rounds)",
                    beside, alone, ctx.repeats()), beside / alone, 3));
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    private static void judgePython(RunContext ctx, JsonNode json, Table.Builder table) {
        double interval = json.path("switch_interval").asDouble();
        double shortInterval = json.path("short_interval").asDouble();
        JsonNode alone = json.path("alone");
        JsonNode cpu = json.path("cpu_default");
        JsonNode cpuShort = json.path("cpu_short");
        table.row("CPython", "nothing", interval * 1e3, ms(alone, "median_ms"), ms(alone, "p90_ms"),
                        ms(alone, "max_ms"))
                .row("CPython", "a pure-Python CPU-bound thread (" + cpu.path("cpu_loops").asLong()
                                + " loops meanwhile)", interval * 1e3, ms(cpu, "median_ms"), ms(cpu, "p90_ms"),
                        ms(cpu, "max_ms"))
                .row("CPython", "the same CPU-bound thread (" + cpuShort.path("cpu_loops").asLong()
                                + " loops meanwhile)", shortInterval * 1e3, ms(cpuShort, "median_ms"),
                        ms(cpuShort, "p90_ms"), ms(cpuShort, "max_ms"));
        double aloneMedian = ms(alone, "median_ms");
        double cpuMedian = ms(cpu, "median_ms");
        double shortMedian = ms(cpuShort, "median_ms");
        ctx.claim(PY_CONVOY, Verdict.atLeast(String.format(
                "median delay beside the CPU thread %.3f ms vs alone %.3f ms", cpuMedian, aloneMedian),
                cpuMedian / aloneMedian, 3));
        ctx.claim(PY_ONE_INTERVAL, Verdict.atLeast(String.format(
                "median delay beside the CPU thread %.3f ms vs sys.getswitchinterval() = %.1f ms", cpuMedian,
                interval * 1e3), cpuMedian / (interval * 1e3), 0.5));
        ctx.claim(PY_SHORT_INTERVAL, Verdict.atLeast(String.format(
                "median delay beside the CPU thread at %.1f ms interval %.3f ms vs at %.1f ms interval %.3f ms",
                interval * 1e3, cpuMedian, shortInterval * 1e3, shortMedian), cpuMedian / shortMedian, 3));
    }

    private static double ms(JsonNode variant, String field) {
        return variant.path(field).asDouble();
    }

    /** Measures the sleeper while a platform thread spins on CPU work beside it; stops and joins the spinner. */
    private static Delays besideSpinner(int wakeups, int sleepMicros) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        Thread spinner = Thread.ofPlatform().name("cpu-bound").start(() -> {
            while (!stop.get()) {
                CpuWork.consume(SPIN_SLICE);
            }
        });
        try {
            return Delays.sleeping(wakeups, sleepMicros);
        } finally {
            stop.set(true);
            spinner.join();
        }
    }

    /** Sorted wake-up delays of one variant, in ms; the array is made here and never modified afterwards. */
    record Delays(double[] sortedMillis) {

        /** Sleeps {@code wakeups} times for {@code sleepMicros} µs on this thread, recording how late it wakes. */
        static Delays sleeping(int wakeups, int sleepMicros) throws InterruptedException {
            long asked = TimeUnit.MICROSECONDS.toNanos(sleepMicros);
            double[] late = new double[wakeups];
            for (int i = 0; i < wakeups; i++) {
                long start = System.nanoTime();
                Thread.sleep(Duration.ofNanos(asked));
                late[i] = (System.nanoTime() - start - asked) / 1e6;
            }
            Arrays.sort(late);
            return new Delays(late);
        }

        double median() {
            int n = sortedMillis.length;
            return n % 2 == 1 ? sortedMillis[n / 2] : (sortedMillis[n / 2 - 1] + sortedMillis[n / 2]) / 2;
        }

        double p90() {
            return sortedMillis[Math.min(sortedMillis.length - 1, (int) (sortedMillis.length * 0.9))];
        }

        double max() {
            return sortedMillis[sortedMillis.length - 1];
        }
    }
}
