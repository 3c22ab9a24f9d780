package dev.conclab.lab.web;

import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Runner;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One run started from the web: its id, its experiment, its latest progress and, once it has ended, its record.
 *
 * <p><b>Thread safety:</b> safe for use from any thread. {@link #progress} is the run's {@link ProgressListener}:
 * it only swaps one reference (lock-free, never blocks the measured code); readers see the latest report with a
 * version number that grows by one per report, so a subscriber can tell whether anything changed since it last
 * looked. {@link #finished()} completes once, after the run's slot in the {@link RunManager} has been freed.
 */
public final class WebRun implements ProgressListener {

    /** A progress report with its sequence number (0 before the run reports anything). */
    public record Progress(long version, double fraction, String message) {
    }

    /** A run that ended without a record: its experiment ignored being stopped past the runner's grace period. */
    public static final class NoRecordException extends RuntimeException {
        NoRecordException(String message) {
            super(message, null, false, false);
        }
    }

    private final String id;
    private final String experiment;
    private final AtomicReference<Progress> progress = new AtomicReference<>(new Progress(0, 0, "starting"));
    private final CompletableFuture<RunRecord> finished = new CompletableFuture<>();
    private volatile Runner.RunHandle handle;

    WebRun(String id, String experiment) {
        this.id = id;
        this.experiment = experiment;
    }

    public String id() {
        return id;
    }

    public String experiment() {
        return experiment;
    }

    /** The path of this run's server-sent events. */
    public String eventsPath() {
        return "/api/runs/" + id + "/events";
    }

    @Override
    public void progress(double fraction, String message) {
        progress.getAndUpdate(p -> new Progress(p.version() + 1, fraction, message));
    }

    public Progress progress() {
        return progress.get();
    }

    /**
     * Completes with the run's record, or exceptionally with a {@link NoRecordException} when the run could not
     * be stopped; never cancelled.
     */
    public CompletableFuture<RunRecord> finished() {
        return finished;
    }

    public boolean done() {
        return finished.isDone();
    }

    void attach(Runner.RunHandle handle) {
        this.handle = handle;
    }

    Runner.RunHandle handle() {
        return handle;
    }

    /** Asks the run to stop; its record will say CANCELLED. Safe to call any number of times. */
    void cancel() {
        Runner.RunHandle h = handle;
        if (h != null) {
            h.cancel();
        }
    }

    void complete(RunRecord record) {
        finished.complete(record);
    }

    void fail(String why) {
        finished.completeExceptionally(new NoRecordException(why));
    }
}
