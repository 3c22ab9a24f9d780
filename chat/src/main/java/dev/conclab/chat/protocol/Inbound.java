package dev.conclab.chat.protocol;

/**
 * A client-to-server message, as parsed and validated by {@link Codec#parse}. Each record's fields are already
 * checked (names and rooms match {@link Codec#NAME_PATTERN}, texts are non-empty and within the limit); {@code ref}
 * is the client's optional correlation token, echoed in the {@code ack} or {@code error} it causes. Immutable.
 */
public sealed interface Inbound {

    /** The client's correlation token, or {@code null}. */
    default String ref() {
        return null;
    }

    /** {@code {"type":"hello","name":N}}: take the name N (only while in no room). */
    record Hello(String name, String ref) implements Inbound {}

    /** {@code {"type":"join","room":R}}. */
    record Join(String room, String ref) implements Inbound {}

    /** {@code {"type":"leave","room":R}}. */
    record Leave(String room, String ref) implements Inbound {}

    /** {@code {"type":"send","room":R,"text":T,"ref":X?}}: a message to every member of R (the sender included). */
    record Send(String room, String text, String ref) implements Inbound {}

    /** {@code {"type":"dm","to":N,"text":T,"ref":X?}}: a direct message to the client named N. */
    record Dm(String to, String text, String ref) implements Inbound {}

    /** {@code {"type":"who","room":R}}: the members of R. */
    record Who(String room, String ref) implements Inbound {}

    /** {@code {"type":"history","room":R}}: the recent messages of R, oldest first. */
    record History(String room, String ref) implements Inbound {}
}
