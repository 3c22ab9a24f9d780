package dev.conclab.lab.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Everything one run of an experiment sees: its parameter values, quick mode, progress reporting, cancellation,
 * the child processes it starts, and the collectors of its result.
 *
 * <p><b>Thread safety:</b> safe for use from the experiment's own threads. Claims may be judged in any order, each
 * once; judging a claim the experiment did not declare throws {@link IllegalArgumentException}.
 */
public final class RunContext {

    private final Experiment experiment;
    private final ParamValues params;
    private final boolean quick;
    private final ProgressListener progress;
    private final Map<String, ClaimSpec> declared;
    private final Map<String, Verdict> verdicts = new LinkedHashMap<>();
    private final List<Table> tables = new ArrayList<>();
    private final List<Series> series = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> earlierAttempts = new ArrayList<>();
    private volatile Trace trace = new Trace();
    private final ChildProcesses children = new ChildProcesses();
    private volatile RunStatus stopReason;
    private volatile Thread runThread;
    private volatile String pythonVersion;
    /** Claims gated by {@link #requireCores}, with the cores each needs. */
    private final Map<String, Integer> needsCores = new LinkedHashMap<>();
    /** CPU used by other processes since this attempt began, when the machine tells. */
    private volatile Optional<CpuShare> cpuShare = CpuShare.start();

    /**
     * Cores' worth of CPU other processes may use, on average over an attempt, before a failed claim about
     * parallel speed-up counts as not judged rather than failed. An idle machine shows a few hundredths.
     */
    static final double BUSY_CORES = 0.3;

    /**
     * The lowest two-thread speed-up of the calibration loop (ideal 2) at which a failed claim about parallel
     * speed-up still counts as failed; below it the cores were not running in parallel, and the claim is SKIPPED.
     */
    static final double PARALLEL_CALIBRATION = 1.5;

    public RunContext(Experiment experiment, ParamValues params, boolean quick, ProgressListener progress) {
        this.experiment = experiment;
        this.params = params;
        this.quick = quick;
        this.progress = progress;
        this.declared = experiment.claims().stream()
                .collect(Collectors.toMap(ClaimSpec::id, Function.identity(), (a, b) -> {
                    throw new IllegalStateException(experiment.id() + " declares claim " + a.id() + " twice");
                }, LinkedHashMap::new));
    }

    public ParamValues params() {
        return params;
    }

    public int intParam(String name) {
        return params.getInt(name);
    }

    public boolean quick() {
        return quick;
    }

    /** Best-of count for timing claims: fewer runs in quick mode, never fewer than two. */
    public int repeats() {
        return quick ? 3 : 5;
    }

    public int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    public void progress(double fraction, String message) {
        progress.progress(Math.clamp(fraction, 0.0, 1.0), message);
    }

    /** Throws {@link CancellationException} once the run has been cancelled or has timed out. */
    public void checkCancelled() {
        if (stopReason != null) {
            throw new CancellationException(experiment.id() + " " + stopReason.name().toLowerCase());
        }
    }

    public boolean isCancelled() {
        return stopReason != null;
    }

    /** The child processes of this run; all are destroyed when the run ends, however it ends. */
    public ChildProcesses children() {
        return children;
    }

    public Trace trace() {
        return trace;
    }

    public synchronized void table(Table table) {
        tables.add(table);
    }

    public synchronized void series(Series s) {
        series.add(s);
    }

    public synchronized void note(String note) {
        notes.add(note);
    }

    /**
     * Gives {@code claim} its verdict for this run. A claim gated by {@link #requireCores} that FAILS while other
     * processes were using the machine's cores is SKIPPED instead, with the measurement and the load in its reason.
     */
    public synchronized void claim(ClaimSpec claim, Verdict verdict) {
        ClaimSpec spec = declared.get(claim.id());
        if (spec == null || !spec.equals(claim)) {
            throw new IllegalArgumentException(experiment.id() + " judged an undeclared claim: " + claim.id());
        }
        if (verdict instanceof Verdict.Fails failed && needsCores.containsKey(claim.id())) {
            verdict = skipIfBusy(needsCores.get(claim.id()), failed);
        }
        if (verdicts.putIfAbsent(claim.id(), verdict) != null) {
            throw new IllegalStateException(experiment.id() + " judged claim " + claim.id() + " twice");
        }
    }

    /**
     * Skips {@code claim} unless the machine has at least {@code cores} cores; returns whether it has them.
     * Use it for every claim about parallel speed-up. The cores must also be free: if the claim then FAILS while
     * other processes used {@value #BUSY_CORES} cores or more on average during this attempt, it is SKIPPED with
     * that reason instead, because the measurement was of the neighbours, not of the code. So is a claim that FAILS
     * while a calibration loop run right then ({@code ParallelCalibration}) gains less than
     * {@value #PARALLEL_CALIBRATION}× from a second thread: the host was not giving the machine two cores.
     */
    public boolean requireCores(ClaimSpec claim, int cores) {
        if (cores() >= cores) {
            synchronized (this) {
                needsCores.put(claim.id(), cores);
            }
            return true;
        }
        claim(claim, Verdict.skipped("needs " + cores + " cores; this machine has " + cores()));
        return false;
    }

    private Verdict skipIfBusy(int cores, Verdict.Fails failed) {
        Optional<Double> others = cpuShare.flatMap(CpuShare::othersCores);
        if (others.isPresent() && others.get() >= BUSY_CORES) {
            return Verdict.skipped(String.format("needs %d idle cores, but other processes used %.1f cores on"
                    + " average during this run; measured anyway: %s", cores, others.get(), failed.detail()));
        }
        if (cores < 2) {
            return failed;
        }
        // The neighbours inside this machine were quiet; the host may not have been. Measure whether two threads
        // run in parallel at all right now before calling a parallel speed-up claim false.
        try {
            double calibration = ParallelCalibration.worstTwoThreadSpeedup();
            if (calibration < PARALLEL_CALIBRATION) {
                return Verdict.skipped(String.format("needs %d cores running in parallel, but a calibration loop"
                        + " just gained only %.2f× from a second thread (the host gave this machine's cores"
                        + " less than two cores' worth of CPU); measured anyway: %s", cores, calibration,
                        failed.detail()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return failed;
    }

    /** Records the CPython version a probe of this run used, for the result's machine facts. */
    public void usedPython(String version) {
        pythonVersion = version;
    }

    String pythonVersion() {
        return pythonVersion;
    }

    void bind(Thread thread) {
        runThread = thread;
    }

    /** Stops the run: later {@link #checkCancelled()} calls throw, the run's thread is interrupted, children die. */
    void stop(RunStatus reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
        Thread t = runThread;
        if (t != null) {
            t.interrupt();
        }
        children.close();
    }

    RunStatus stopReason() {
        return stopReason;
    }

    /** The result so far; unjudged claims get {@code unjudged}'s verdict. */
    synchronized Result result(Verdict unjudged) {
        List<ClaimResult> claims = declared.values().stream()
                .map(spec -> ClaimResult.of(spec, verdicts.getOrDefault(spec.id(), unjudged)))
                .toList();
        List<String> allNotes = new ArrayList<>(earlierAttempts);
        allNotes.addAll(notes);
        return new Result(tables, series, allNotes, trace.events(), claims);
    }

    /**
     * Forgets what this attempt measured, so the experiment can run again in the same context; {@code why} is
     * kept as a note of the result, so a failed attempt stays visible.
     */
    synchronized void startOver(String why) {
        earlierAttempts.add(why);
        cpuShare = CpuShare.start();
        verdicts.clear();
        tables.clear();
        series.clear();
        notes.clear();
        trace = new Trace();
    }
}
