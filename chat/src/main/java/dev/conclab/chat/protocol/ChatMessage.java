package dev.conclab.chat.protocol;

import java.util.Objects;

/**
 * A room message as the server stamped it: a server-assigned id (unique and increasing on this server) and
 * timestamp (epoch milliseconds, never decreasing). Immutable.
 */
public record ChatMessage(long id, String room, String from, String text, long ts) {
    public ChatMessage {
        Objects.requireNonNull(room, "room");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(text, "text");
    }
}
