package dev.conclab.lab.cli;

/** Bad input from the user: printed as one line, exit status 2. */
final class UsageError extends RuntimeException {

    UsageError(String message) {
        super(message);
    }
}
