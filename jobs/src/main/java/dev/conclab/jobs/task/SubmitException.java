package dev.conclab.jobs.task;

/**
 * A submission was rejected before anything was stored: unknown task, arguments that are not a JSON array, the
 * wrong number of arguments, an argument of the wrong type, or an option out of range. The message names the task
 * and what was expected against what was given.
 */
public final class SubmitException extends IllegalArgumentException {

    /** Creates the exception with its message. */
    public SubmitException(String message) {
        super(message);
    }

    /** Creates the exception with its message and cause. */
    public SubmitException(String message, Throwable cause) {
        super(message, cause);
    }
}
