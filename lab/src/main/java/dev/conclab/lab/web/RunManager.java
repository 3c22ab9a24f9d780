package dev.conclab.lab.web;

import dev.conclab.lab.engine.BadParameterException;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Runner;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The runs of the web lab: admits a run when its experiment is not already running and fewer than the cap are
 * running (a slot of the shared {@link RunSlots}), starts it on the engine's {@link Runner} (which runs the experiment on its own thread and enforces its
 * timeout), and keeps its progress and record for the pages that follow it.
 *
 * <p>Each admitted run has one virtual "waiter" thread that blocks in {@link Runner.RunHandle#await()} — that call
 * is what enforces the experiment's timeout — then frees the run's slot and, after that, completes
 * {@link WebRun#finished()}: whoever sees a run finished can start the experiment again at once. Ended runs are
 * kept, the most recent {@value #KEPT}, so a page that connects late still gets the record.
 *
 * <p><b>Thread safety:</b> safe for concurrent use; admission is atomic (two requests for the same experiment
 * cannot both start it, and the cap is never exceeded). {@link #close()} refuses new runs, cancels those running
 * and waits for them to stop.
 */
public final class RunManager implements AutoCloseable {

    /** How many ended runs are kept for late readers. */
    public static final int KEPT = 50;

    private final Runner runner;
    private final Map<String, Experiment> experiments;
    private final RunSlots slots;
    /** Guarded by this. */
    private final RunBook<WebRun> book = new RunBook<>("r", KEPT);
    /** Guarded by this. */
    private boolean closed;

    /**
     * @param experiments the experiments that may be run, by id
     * @param cap         at most this many runs at once, at least 1
     */
    public RunManager(Runner runner, Map<String, Experiment> experiments, int cap) {
        this(runner, experiments, new RunSlots(cap));
    }

    /**
     * @param experiments the experiments that may be run, by id
     * @param slots       the global cap, shared with the other kinds of runs (a running run holds one slot)
     */
    public RunManager(Runner runner, Map<String, Experiment> experiments, RunSlots slots) {
        this.runner = runner;
        this.experiments = Map.copyOf(experiments);
        this.slots = slots;
    }

    public int cap() {
        return slots.cap();
    }

    /**
     * Starts a run of {@code experimentId} unless a rule refuses it. Checks in this order: the experiment exists,
     * the parameters are declared and within bounds, the experiment is not running, the cap is not reached.
     *
     * @param params parameter values as the user typed them; undeclared parameters take their default (or quick)
     *               values
     */
    public synchronized Admission start(String experimentId, Map<String, String> params, boolean quick) {
        if (closed) {
            return new Admission.Refused(Admission.Reason.CLOSED, "the web lab is shutting down");
        }
        Experiment experiment = experiments.get(experimentId);
        if (experiment == null) {
            return new Admission.Refused(Admission.Reason.UNKNOWN_EXPERIMENT, "unknown experiment '" + experimentId
                    + "' (see GET /api/experiments)");
        }
        ParamValues values;
        try {
            values = ParamValues.resolve(experiment.params(), params, quick);
        } catch (BadParameterException e) {
            return new Admission.Refused(Admission.Reason.BAD_PARAMETER, e.getMessage());
        }
        WebRun busy = book.running(experimentId).orElse(null);
        if (busy != null) {
            return new Admission.Refused(Admission.Reason.ALREADY_RUNNING, experimentId + " is already running (run "
                    + busy.id() + "); wait for it or cancel it", Optional.of(busy));
        }
        Optional<String> full = slots.tryTake();
        if (full.isPresent()) {
            return new Admission.Refused(Admission.Reason.AT_CAPACITY, full.get());
        }
        WebRun run = new WebRun(book.newId(), experimentId);
        try {
            run.attach(runner.start(experiment, values, quick, run));
        } catch (RuntimeException e) {
            slots.release();
            throw e;
        }
        book.started(experimentId, run.id(), run);
        Thread.ofVirtual().name("conclab-web-await-" + run.id()).start(() -> await(run));
        return new Admission.Started(run);
    }

    /** The run with {@code id}, running or among the kept ended runs. */
    public synchronized Optional<WebRun> run(String id) {
        return book.run(id);
    }

    /** How many runs are going now. */
    public synchronized int runningCount() {
        return book.runningCount();
    }

    /**
     * Asks the run with {@code id} to stop; it ends with status CANCELLED. Returns the run, or empty when no such
     * run is kept. Cancelling an ended run does nothing.
     */
    public Optional<WebRun> cancel(String id) {
        Optional<WebRun> run = run(id);
        run.ifPresent(WebRun::cancel);
        return run;
    }

    /**
     * Refuses new runs, cancels the running ones and waits for each to stop (each gets the runner's
     * {@link Runner#STOP_GRACE}). Idempotent.
     */
    @Override
    public void close() {
        List<WebRun> stopping;
        synchronized (this) {
            closed = true;
            stopping = book.runningNow();
        }
        stopping.forEach(WebRun::cancel);
        boolean interrupted = false;
        for (WebRun run : stopping) {
            try {
                run.finished().get(Runner.STOP_GRACE.toMillis() * 2, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | TimeoutException e) {
                // the run could not be stopped; its waiter reports that through finished()
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The body of a run's waiter thread. */
    private void await(WebRun run) {
        RunRecord record = null;
        String failure = null;
        try {
            record = run.handle().await();
        } catch (InterruptedException e) {
            failure = "the web lab stopped waiting for the run";
            run.cancel();
        } catch (IllegalStateException e) {
            failure = e.getMessage();
        }
        synchronized (this) {
            book.ended(run.experiment(), run);
            slots.release();
        }
        if (record != null) {
            run.complete(record);
        } else {
            run.fail(failure);
        }
    }


}
