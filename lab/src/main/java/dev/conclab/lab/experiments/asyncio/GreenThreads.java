package dev.conclab.lab.experiments.asyncio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Green threads: gevent's greenlets beside the JVM's virtual threads, both running blocking-style socket code on
 * one OS thread.
 *
 * <p>A {@link DelayedServer} on loopback answers every request after D ms. Then:
 * <ol>
 *   <li><b>Broken — gevent without monkey-patching.</b> N greenlets each make one request with the standard
 *       library's {@code socket}. A greenlet gives up the thread only inside a gevent call; a plain blocking
 *       {@code recv} is an ordinary system call that blocks the one OS thread, the hub included, so the requests
 *       run one after another: about N×D.</li>
 *   <li><b>gevent with {@code monkey.patch_all()}</b>, in a fresh child interpreter, patching first of all (modules
 *       imported before the patch keep the blocking originals). The patched {@code socket} registers its wait with
 *       the hub (libev or libuv) and switches to the next greenlet, so the N requests overlap: about D.</li>
 *   <li><b>Yielding and starving.</b> Two greenlets that call {@code gevent.sleep(0)} between steps interleave at
 *       every step; without it each runs to its end. A CPU-bound greenlet that never yields stops a 10 ms ticker
 *       greenlet for its whole burn of B ms, as any cooperative scheduler does.</li>
 *   <li><b>JVM — virtual threads.</b> The same blocking code ({@code java.net.Socket}) on N virtual threads, in a
 *       child JVM whose virtual threads share ONE carrier thread
 *       ({@code -Djdk.virtualThreadScheduler.parallelism=1}). No patching: since JDK 21 (JEP 444) the JDK's own
 *       blocking socket calls park the virtual thread and free the carrier, so the N requests overlap: about D.</li>
 * </ol>
 * Greenlets switch C stacks by copying slices of them (the {@code greenlet} extension); the JVM unmounts a virtual
 * thread's frames into a heap-allocated continuation. eventlet is not tested here (it is not installed with the lab's
 * CPython; its design is the same: greenlets, a hub, and monkey-patching).
 *
 * <p>The CPython side runs the {@code green_threads.py} probe and needs the {@code gevent} module; without it its
 * claims are skipped with the reason. Run: {@code ./conclab run green-threads -p requests=20 -p delay-ms=100}.
 * Expect about N×D unpatched and about D patched and on virtual threads.
 */
public final class GreenThreads implements Experiment {

    static final ClaimSpec PY_UNPATCHED_SERIAL = new ClaimSpec("py-unpatched-serial",
            "Broken: without monkey-patching, N greenlets making blocking socket requests to a server that answers"
                    + " after D ms take at least 0.8×N×D: the plain socket blocks the hub and every greenlet.");
    static final ClaimSpec PY_PATCHED_CONCURRENT = new ClaimSpec("py-patched-concurrent",
            "After gevent.monkey.patch_all(), run first in a fresh interpreter, the same N requests overlap and take"
                    + " under 3×D.");
    static final ClaimSpec PY_SLEEP0_SWITCHES = new ClaimSpec("py-sleep0-switches",
            "Two greenlets that call gevent.sleep(0) between steps switch at every step; without it the first runs"
                    + " to its end before the second starts.");
    static final ClaimSpec PY_CPU_STARVES = new ClaimSpec("py-cpu-starves",
            "A CPU-bound greenlet that never yields stops a 10 ms ticker greenlet for its whole burn of B ms (largest"
                    + " gap at least B); with gevent.sleep(0) every slice the gap stays under 0.4×B.");
    static final ClaimSpec JVM_VIRTUAL_CONCURRENT = new ClaimSpec("jvm-virtual-concurrent",
            "The same blocking socket code on N virtual threads sharing one carrier thread takes under 3×D, with no"
                    + " patching.");

    static final int TICK_MS = 10;
    private static final int STEPS = 5;

    @Override
    public String id() {
        return "green-threads";
    }

    @Override
    public String title() {
        return "Green threads: gevent greenlets with and without monkey-patching, beside virtual threads on one carrier";
    }

    @Override
    public String description() {
        return "Makes N blocking socket requests to a delayed server from N gevent greenlets without and with"
                + " monkey.patch_all(), shows gevent.sleep(0) switching and a CPU-bound greenlet starving a ticker,"
                + " and runs the same blocking code on N virtual threads that share one carrier thread.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("requests", "concurrent requests (N)", 2, 1_000, 20, 10),
                new Param.IntParam("delay-ms", "how long the server waits before answering, in ms (D)", 10, 1_000,
                        100, 50),
                new Param.IntParam("burn-ms", "how long the CPU-bound greenlet burns, in ms (B)", 100, 5_000, 300,
                        200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PY_UNPATCHED_SERIAL, PY_PATCHED_CONCURRENT, PY_SLEEP0_SWITCHES, PY_CPU_STARVES,
                JVM_VIRTUAL_CONCURRENT);
    }

    /** What the probe measured; times in ms. */
    private record PySide(String gevent, double unpatchedMs, boolean socketPatched, double patchedMs,
                          String noYieldOrder, int noYieldSwitches, String sleep0Order, int sleep0Switches,
                          double starvedGapMs, double yieldingGapMs) {
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int requests = ctx.intParam("requests");
        int delay = ctx.intParam("delay-ms");
        int burn = ctx.intParam("burn-ms");
        int repeats = ctx.repeats();

        try (DelayedServer server = DelayedServer.start(delay)) {
            ctx.progress(0.05, "child JVM: " + requests + " virtual threads on one carrier");
            Map<String, Double> child = OneCarrierJvm.run(ctx, 60_000L + 2L * repeats * delay, "sockets",
                    Integer.toString(server.port()), Integer.toString(requests), Integer.toString(repeats));
            Double virtualMs = child.get("virtual-sockets");
            if (virtualMs == null) {
                throw new ProbeException("the one-carrier child JVM printed no virtual-sockets: " + child);
            }
            ctx.claim(JVM_VIRTUAL_CONCURRENT, Verdict.check(virtualMs < 3.0 * delay, String.format(
                    "%d blocking java.net.Socket requests on %d virtual threads, one carrier thread: %.1f ms, best of"
                            + " %d (needs < %d ms = 3×D; one after another would take %d ms)", requests, requests,
                    virtualMs, repeats, 3 * delay, requests * delay)));

            ctx.progress(0.35, "CPython: green_threads.py");
            PySide py = python(ctx, server.port(), requests, delay, burn, repeats);

            Table.Builder table = Table.builder(requests + " blocking requests to a server that answers after D = "
                    + delay + " ms (best of " + repeats + ")", "runtime", "how", "elapsed, ms", "× D");
            table.row("CPython + gevent " + (py == null ? "" : py.gevent()), "Broken: greenlets, socket not patched",
                            py == null ? "—" : py.unpatchedMs(), py == null ? "—" : py.unpatchedMs() / delay)
                    .row("CPython + gevent", "greenlets after monkey.patch_all()", py == null ? "—" : py.patchedMs(),
                            py == null ? "—" : py.patchedMs() / delay)
                    .row("JVM, 1 carrier", "virtual threads, plain java.net.Socket", virtualMs, virtualMs / delay)
                    .row("(for scale)", "one after another", requests * delay, requests);
            ctx.table(table.build());
            if (py != null) {
                ctx.table(Table.builder("gevent scheduling: switching and starving (B = " + burn + " ms)", "case",
                                "observed")
                        .row("two greenlets, " + STEPS + " steps each, no yield: order", py.noYieldOrder())
                        .row("the same with gevent.sleep(0) between steps: order", py.sleep0Order())
                        .row("ticker's largest gap, CPU greenlet never yields, ms", py.starvedGapMs())
                        .row("ticker's largest gap, gevent.sleep(0) every slice, ms", py.yieldingGapMs())
                        .build());
            }
        }
        ctx.progress(1, "done");
    }

    private static PySide python(RunContext ctx, int port, int requests, int delay, int burn, int repeats)
            throws Exception {
        long budget = 60_000L + 3L * repeats * ((long) requests * delay + 2L * burn);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("green_threads.py", List.of("gevent"),
                Duration.ofMillis(budget),
                "--port", Integer.toString(port), "--requests", Integer.toString(requests),
                "--burn-ms", Integer.toString(burn), "--tick-ms", Integer.toString(TICK_MS),
                "--repeat", Integer.toString(repeats));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_UNPATCHED_SERIAL, PY_PATCHED_CONCURRENT, PY_SLEEP0_SWITCHES, PY_CPU_STARVES);
                ctx.note("CPython side skipped: " + missing.reason());
                return null;
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode interleave = json.path("interleave");
                PySide py = new PySide(json.path("gevent").asText(),
                        number(json, "unpatched_s") * 1e3,
                        json.path("patched").path("socket_patched").asBoolean(false),
                        number(json.path("patched"), "elapsed_s") * 1e3,
                        interleave.path("no_yield").asText(), (int) number(interleave, "no_yield_switches"),
                        interleave.path("sleep0").asText(), (int) number(interleave, "sleep0_switches"),
                        number(json.path("starve"), "gap_no_yield_s") * 1e3,
                        number(json.path("starve"), "gap_sleep0_s") * 1e3);
                ctx.note("CPython side: " + ran.interpreter() + ", gevent " + py.gevent() + ", greenlet "
                        + json.path("greenlet").asText() + ", probe ran in " + String.format("%.1f s",
                        ran.seconds()));
                double serial = (double) requests * delay;
                ctx.claim(PY_UNPATCHED_SERIAL, Verdict.check(py.unpatchedMs() >= 0.8 * serial, String.format(
                        "%d greenlets, unpatched socket: %.1f ms, best of %d (needs ≥ %.0f ms = 0.8×N×D)", requests,
                        py.unpatchedMs(), repeats, 0.8 * serial)));
                ctx.claim(PY_PATCHED_CONCURRENT, Verdict.check(py.socketPatched() && py.patchedMs() < 3.0 * delay,
                        String.format("%d greenlets after patch_all() (socket patched: %s): %.1f ms, best of %d"
                                        + " (needs < %d ms = 3×D)", requests, py.socketPatched(), py.patchedMs(),
                                repeats, 3 * delay)));
                ctx.claim(PY_SLEEP0_SWITCHES, Verdict.check(py.noYieldSwitches() == 1
                                && py.sleep0Switches() == 2 * STEPS - 1, String.format(
                        "no yield: order %s, %d switch(es) (needs 1); gevent.sleep(0) between steps: order %s, %d"
                                + " switches (needs %d)", py.noYieldOrder(), py.noYieldSwitches(), py.sleep0Order(),
                        py.sleep0Switches(), 2 * STEPS - 1)));
                ctx.claim(PY_CPU_STARVES, Verdict.check(py.starvedGapMs() >= burn
                                && py.yieldingGapMs() < 0.4 * burn, String.format(
                        "ticker greenlet's largest gap while a greenlet burned %d ms without yielding: %.1f ms"
                                + " (needs ≥ %d ms = B); with gevent.sleep(0) every slice: %.1f ms (needs < %.0f ms ="
                                + " 0.4×B); smallest of %d runs each", burn, py.starvedGapMs(), burn,
                        py.yieldingGapMs(), 0.4 * burn, repeats)));
                return py;
            }
        }
    }

    private static double number(JsonNode json, String key) {
        JsonNode value = json.path(key);
        if (!value.isNumber()) {
            throw new ProbeException("probe green_threads.py printed no number at " + key + ": " + json);
        }
        return value.asDouble();
    }
}
