package dev.conclab.lab.web;

import dev.conclab.lab.engine.RunRecord;

import java.util.concurrent.ExecutionException;

/**
 * A run as {@code GET /api/runs/{id}} answers it. Immutable; a snapshot.
 *
 * @param state    {@code running} or {@code done}
 * @param progress the latest progress report
 * @param record   the run's record once it is done, else {@code null}
 * @param error    why a done run has no record (its experiment would not stop), else {@code null}
 */
record RunView(String id, String experiment, String state, RunEvents.ProgressEvent progress,
                      RunRecord record, String error) {

    static RunView of(WebRun run) {
        WebRun.Progress p = run.progress();
        RunEvents.ProgressEvent progress = new RunEvents.ProgressEvent(p.fraction(), p.message());
        if (!run.done()) {
            return new RunView(run.id(), run.experiment(), "running", progress, null, null);
        }
        try {
            return new RunView(run.id(), run.experiment(), "done", progress, run.finished().get(), null);
        } catch (ExecutionException e) {
            return new RunView(run.id(), run.experiment(), "done", progress, null, e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading a finished run", e);
        }
    }

    /** The answer to a started run: its id, experiment, state and where its events are. */
    record Started(String id, String experiment, String state, String events) {
        static Started of(WebRun run) {
            return new Started(run.id(), run.experiment(), "running", run.eventsPath());
        }
    }

    /** The answer to a cancellation. */
    record Cancelling(String id, String state) {
    }

    /** A 409: the error, and the experiment's run in progress with its events, so a page can follow it instead. */
    record Busy(String error, String run, String events) {
    }
}
