package dev.conclab.lab.engine;

/** A parameter given by a user was unknown, malformed or out of bounds; the message names it and what is allowed. */
public final class BadParameterException extends IllegalArgumentException {

    public BadParameterException(String message) {
        super(message);
    }
}
