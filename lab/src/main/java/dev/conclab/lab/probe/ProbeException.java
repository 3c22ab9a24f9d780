package dev.conclab.lab.probe;

/** A probe ran but failed: it crashed, timed out, or printed something that is not one JSON object. */
public final class ProbeException extends RuntimeException {

    public ProbeException(String message) {
        super(message);
    }

    public ProbeException(String message, Throwable cause) {
        super(message, cause);
    }
}
