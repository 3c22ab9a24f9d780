package dev.conclab.chat.protocol;

import java.util.Objects;

/** A client message that breaks the protocol: the {@link Problem} to report, a human message, and the ref if any. */
public final class ProtocolException extends Exception {

    private final Problem problem;
    private final String ref;

    public ProtocolException(Problem problem, String message, String ref) {
        super(Objects.requireNonNull(message, "message"), null, false, false);
        this.problem = Objects.requireNonNull(problem, "problem");
        this.ref = ref;
    }

    public Problem problem() {
        return problem;
    }

    /** The client's {@code ref} when the message had a readable one, else {@code null}. */
    public String ref() {
        return ref;
    }
}
