package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.time.Duration;
import java.util.List;

/**
 * Which operations release the GIL, measured one by one on the installed CPython.
 *
 * <p>A <b>ticker</b> thread runs a pure-Python loop nonstop while the main thread calls one operation over and over
 * (each call sized to take {@code call-ms}). The probe reads both threads' CPU clocks and divides by the wall time:
 * how many cores' worth each thread used, and both together. The test rests on one fact: only the thread holding
 * the GIL runs Python code, and a thread waiting for the GIL sleeps on a condition variable, using no CPU.
 * <ul>
 *   <li><b>Holds the GIL</b> (a pure-Python loop; numpy on {@code dtype=object} arrays, where every element goes
 *       through the C API): the threads take turns, so together they use about 1 core however many the machine
 *       has. Other processes can only lower that number, so the "holds" claims cannot pass by luck.</li>
 *   <li><b>Releases it while computing</b> ({@code hashlib.sha256} of a large buffer, {@code zlib.compress}, a file
 *       read from the page cache, numpy's matrix multiply and {@code np.add} on float64 arrays): the ticker runs
 *       while the main thread is inside the call, so together they approach 2 cores on two free cores. These
 *       claims need 2 cores.</li>
 *   <li><b>Releases it while waiting</b> ({@code time.sleep}; {@code recv} on a loopback socket to a
 *       {@link DelayedServer} that answers after {@code call-ms}): the main thread uses no CPU, and the ticker gets
 *       a whole core, even on a one-core machine. Had the call kept the GIL, the ticker would run only between
 *       calls, for about one switch interval (5 ms) per call: at most about 0.2 of a core with 25 ms calls, however
 *       idle the machine, so noise cannot make these claims pass. Noise can make them fail, by taking the core
 *       away: they need one idle core, and a failure while other processes were busy is reported as SKIPPED.</li>
 * </ul>
 * After each call that released the GIL the main thread must take it back from the ticker, which keeps it for up to
 * one switch interval (the convoy effect, measured by {@code gil-handoff}); that wait is why calls are tens of ms
 * long, and why "together" stays a little under 2. The probe limits BLAS to one thread
 * ({@code OPENBLAS_NUM_THREADS=1} and its siblings, set before numpy is imported) so the matrix multiply measures
 * the GIL and not BLAS's own thread pool. numpy claims are skipped when the interpreter has no numpy.
 *
 * <p>Each operation runs {@code ctx.repeats()} times, taking turns; the run with the most cores used together is
 * reported: the best overlap for a "releases" claim, and the hardest test for a "holds" claim.
 *
 * <p>Not measured here: the JVM. Java threads have no global lock, so no call on one thread stops another; the
 * scaling of the same CPU-bound loop is {@code gil-cpu-threads › jvm-no-gil}. hashlib's size threshold (it releases
 * the GIL only for data of 2048 bytes or more, {@code HASHLIB_GIL_MINSIZE} in CPython's {@code Modules/hashlib.h})
 * is stated in the card, not measured: per-call differences of a microsecond drown in this machine's noise.
 *
 * <p>Run: {@code ./conclab run gil-release}. Expect about 1.0 core together for the pure-Python loop and the
 * object-dtype add, 1.6–1.9 for the compute calls on two idle cores, and the ticker at about 1.0 core beside sleep
 * and recv.
 */
public final class GilRelease implements Experiment {

    static final ClaimSpec SLEEP = new ClaimSpec("sleep-releases",
            "time.sleep releases the GIL: while one CPython thread sleeps, a pure-Python thread beside it uses at"
                    + " least 0.6 of a core (needs 1 idle core).");
    static final ClaimSpec SOCKET = new ClaimSpec("socket-recv-releases",
            "A blocking socket recv releases the GIL: while one thread waits for a loopback server's answer, a"
                    + " pure-Python thread beside it uses at least 0.6 of a core (needs 1 idle core).");
    static final ClaimSpec FILE = new ClaimSpec("file-read-releases",
            "A file read releases the GIL: a thread reading a file from the page cache and a pure-Python thread"
                    + " together use at least 1.4 cores (needs 2 cores).");
    static final ClaimSpec HASHLIB = new ClaimSpec("hashlib-releases",
            "hashlib.sha256 of a large buffer releases the GIL: the hashing thread and a pure-Python thread"
                    + " together use at least 1.4 cores (needs 2 cores).");
    static final ClaimSpec ZLIB = new ClaimSpec("zlib-releases",
            "zlib.compress of a large buffer releases the GIL: the compressing thread and a pure-Python thread"
                    + " together use at least 1.4 cores (needs 2 cores).");
    static final ClaimSpec NUMPY_MATMUL = new ClaimSpec("numpy-matmul-releases",
            "A numpy matrix multiply (BLAS limited to one thread) releases the GIL: it and a pure-Python thread"
                    + " together use at least 1.4 cores (needs 2 cores).");
    static final ClaimSpec NUMPY_ADD = new ClaimSpec("numpy-add-releases",
            "np.add on large float64 arrays releases the GIL: it and a pure-Python thread together use at least"
                    + " 1.4 cores (needs 2 cores).");
    static final ClaimSpec NUMPY_OBJECT = new ClaimSpec("numpy-object-holds",
            "np.add on dtype=object arrays holds the GIL: it and a pure-Python thread together use at most 1.2"
                    + " cores.");
    static final ClaimSpec PURE_PYTHON = new ClaimSpec("pure-python-holds",
            "A pure-Python loop holds the GIL: it and a second pure-Python thread together use at most 1.2 cores.");

    /** The least share of a core the ticker must get while the main thread waits in a call that releases the GIL. */
    static final double WAITING_TICKER = 0.6;
    /** The least cores both threads must use together when a CPU-bound call releases the GIL. */
    static final double RELEASED_TOGETHER = 1.4;
    /** The most cores both threads may use together when the call holds the GIL. */
    static final double HELD_TOGETHER = 1.2;

    /** What each claim reads from the probe, and how it is judged. */
    private enum Check { WAITING, RELEASED, HELD }

    private record Op(String name, ClaimSpec claim, Check check) {
    }

    private static final List<Op> OPS = List.of(
            new Op("sleep", SLEEP, Check.WAITING),
            new Op("socket-recv", SOCKET, Check.WAITING),
            new Op("file-read", FILE, Check.RELEASED),
            new Op("hashlib", HASHLIB, Check.RELEASED),
            new Op("zlib", ZLIB, Check.RELEASED),
            new Op("numpy-matmul", NUMPY_MATMUL, Check.RELEASED),
            new Op("numpy-add", NUMPY_ADD, Check.RELEASED),
            new Op("numpy-object", NUMPY_OBJECT, Check.HELD),
            new Op("pure-python", PURE_PYTHON, Check.HELD));

    @Override
    public String id() {
        return "gil-release";
    }

    @Override
    public String title() {
        return "Which operations release the GIL: sleep, sockets, files, hashlib, zlib, numpy vs pure Python";
    }

    @Override
    public String description() {
        return "Runs each operation in one CPython thread beside a pure-Python 'ticker' thread and reads both"
                + " threads' CPU clocks: operations that hold the GIL make the threads take turns (about 1 core"
                + " together), operations that release it let the ticker run meanwhile.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("call-ms", "how long one call of each operation takes alone, in ms", 10, 1_000,
                        40, 25),
                new Param.IntParam("calls", "calls per measurement", 1, 1_000, 5, 3));
    }

    @Override
    public List<ClaimSpec> claims() {
        return OPS.stream().map(Op::claim).toList();
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int callMs = ctx.intParam("call-ms");
        ctx.progress(0.05, "CPython: each operation beside a pure-Python ticker thread");
        ProbeOutcome outcome;
        try (DelayedServer server = DelayedServer.start(callMs)) {
            outcome = PythonProbes.of(ctx).run("gil_release.py", List.of(), Duration.ofSeconds(180),
                    "--call-ms", Integer.toString(callMs),
                    "--calls", Integer.toString(ctx.intParam("calls")),
                    "--repeat", Integer.toString(ctx.repeats()),
                    "--port", Integer.toString(server.port()));
        }
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, OPS.stream().map(Op::claim).toArray(ClaimSpec[]::new));
            case ProbeOutcome.Ran ran -> judge(ctx, ran);
        }
        ctx.progress(1, "done");
    }

    private static void judge(RunContext ctx, ProbeOutcome.Ran ran) {
        JsonNode json = ran.json();
        JsonNode ops = json.path("ops");
        Table.Builder table = Table.builder(String.format("Beside a pure-Python ticker thread: cores used, CPython %s,"
                        + " switch interval %.0f ms, BLAS threads %s (best overlap of %d runs)",
                ran.interpreter().version(), json.path("switch_interval").asDouble() * 1e3,
                json.path("blas_threads").asText(), ctx.repeats()),
                "operation", "the main thread calls", "ms per call", "main thread cores", "ticker cores",
                "together cores", "ticker alone cores (just before)");
        for (Op op : OPS) {
            JsonNode m = ops.path(op.name());
            if (m.isMissingNode()) {
                ctx.claim(op.claim(), Verdict.skipped(op.name().startsWith("numpy")
                        ? "numpy is not installed for " + ran.interpreter()
                        : "the probe did not measure " + op.name()));
                continue;
            }
            double main = m.path("main_cpu").asDouble();
            double ticker = m.path("tick_cpu").asDouble();
            double together = m.path("parallelism").asDouble();
            table.row(op.name(), m.path("detail").asText(), m.path("call_ms").asDouble(), main, ticker, together,
                    m.path("tick_alone_cpu").asDouble());
            String evidence = String.format("%s: main thread %.2f + ticker %.2f cores", m.path("detail").asText(),
                    main, ticker);
            switch (op.check()) {
                case WAITING -> {
                    // A busy machine can take the core away from the ticker: then the claim is not judged here.
                    if (ctx.requireCores(op.claim(), 1)) {
                        ctx.claim(op.claim(), Verdict.check(ticker >= WAITING_TICKER, String.format(
                                "%s; the ticker used %.2f of a core while the main thread waited (needs ≥ %.2f;"
                                        + " alone just before: %.2f)", evidence, ticker, WAITING_TICKER,
                                m.path("tick_alone_cpu").asDouble())));
                    }
                }
                case RELEASED -> {
                    if (ctx.requireCores(op.claim(), 2)) {
                        ctx.claim(op.claim(), Verdict.check(together >= RELEASED_TOGETHER, String.format(
                                "%s = %.2f cores together (needs ≥ %.2f)", evidence, together, RELEASED_TOGETHER)));
                    }
                }
                case HELD -> ctx.claim(op.claim(), Verdict.check(together <= HELD_TOGETHER, String.format(
                        "%s = %.2f cores together (needs ≤ %.2f)", evidence, together, HELD_TOGETHER)));
            }
        }
        ctx.table(table.build());
    }
}
