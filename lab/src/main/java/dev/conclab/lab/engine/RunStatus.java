package dev.conclab.lab.engine;

/** How a run ended. */
public enum RunStatus {
    /** The experiment returned; its claims carry their verdicts. */
    COMPLETED,
    /** The experiment threw; its unjudged claims FAIL with the error. */
    FAILED,
    /** The runner stopped it at its timeout; its unjudged claims FAIL. */
    TIMED_OUT,
    /** The user stopped it; its unjudged claims are SKIPPED. */
    CANCELLED
}
