package dev.conclab.lab.web;

import java.util.Map;

/**
 * A system run as {@code GET /api/systems/{sys}/runs/{id}} answers it and as its {@code done} event carries it.
 * Immutable; a snapshot.
 *
 * @param status   {@code RUNNING}, {@code COMPLETED}, {@code CANCELLED}, {@code TIMED_OUT} or {@code FAILED}
 * @param params   the values the run uses (defaults filled in)
 * @param progress the latest progress report
 * @param summary  what the run did, once it has ended (a cancelled crawl still has one), else {@code null}
 * @param error    why a FAILED run failed, else {@code null}
 */
record SystemRunView(String id, String system, String status, String events, Map<String, Object> params,
                     Object progress, Object summary, String error) {

    /** The view of a run still going. */
    static SystemRunView running(SystemRun run) {
        return new SystemRunView(run.id(), run.system(), SystemRun.Status.RUNNING.name(), run.eventsPath(),
                run.params(), run.progress().data(), null, null);
    }

    /** The view of a run that ended with {@code status}. */
    static SystemRunView ended(SystemRun run, SystemRun.Status status, Object summary, String error) {
        return new SystemRunView(run.id(), run.system(), status.name(), run.eventsPath(), run.params(),
                run.progress().data(), summary, error);
    }

    /** The current view of {@code run}. */
    static SystemRunView of(SystemRun run) {
        return run.done() ? run.finished().join() : running(run);
    }
}
