package dev.conclab.lab.web;

import java.util.Optional;

/**
 * The answer to a request to start a run: {@link Started} with the run, or {@link Refused} with why. Immutable.
 */
public sealed interface Admission permits Admission.Started, Admission.Refused {

    /** The run was started. */
    record Started(WebRun run) implements Admission {
    }

    /**
     * The run was not started; {@code message} is one line naming the problem.
     *
     * @param running the experiment's run in progress, when that is the reason (a page can follow it instead)
     */
    record Refused(Reason reason, String message, Optional<WebRun> running) implements Admission {

        public Refused(Reason reason, String message) {
            this(reason, message, Optional.empty());
        }
    }

    /** Why a run was refused, with the HTTP status the API answers it with. */
    enum Reason {
        /** A parameter is unknown, malformed or out of its declared bounds. */
        BAD_PARAMETER(400),
        /** No experiment has that id. */
        UNKNOWN_EXPERIMENT(404),
        /** The experiment already has a run going: one run per experiment. */
        ALREADY_RUNNING(409),
        /** The global cap of concurrent runs is reached. */
        AT_CAPACITY(429),
        /** The lab is shutting down. */
        CLOSED(503);

        private final int status;

        Reason(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}
