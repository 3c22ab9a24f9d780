package dev.conclab.chat.core;

import dev.conclab.chat.protocol.ChatMessage;

import java.util.Objects;

/**
 * What a {@link Broadcaster} carries to every node: a message posted to a room, or a member joining or leaving it.
 * Immutable.
 */
public sealed interface RoomEvent {

    /** The room the event belongs to. */
    String room();

    /** A message posted to the room, already stamped with its id and timestamp. */
    record Posted(ChatMessage message) implements RoomEvent {
        public Posted {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String room() {
            return message.room();
        }
    }

    /** {@code name} joined {@code room}. */
    record Joined(String room, String name) implements RoomEvent {}

    /** {@code name} left {@code room}. */
    record Left(String room, String name) implements RoomEvent {}
}
