package dev.conclab.toolkit.diagnostics.doctor;

/**
 * The doctor could not examine the process it was given: it does not exist, belongs to another user, is not a JVM
 * (or one that refuses attachment), or the dump could not be read. The message is one line naming the process
 * and the problem, without the attach tool's stack trace, fit to show a user as it is.
 */
public final class DoctorException extends Exception {
    public DoctorException(String message) {
        super(message);
    }
}
