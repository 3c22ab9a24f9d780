package dev.conclab.jobs.canvas;

import java.util.Objects;

/**
 * A group and a callback that runs once every member succeeded, receiving the members' results (a JSON array, in
 * member order) as its first argument (Celery's {@code chord}). If a member fails for good, the callback's task is
 * recorded FAILURE and never runs. The broker counts members down atomically with their settlements, so a crashed
 * worker can neither fire the callback twice nor lose it. Immutable.
 *
 * @param header   the members
 * @param callback the call over their results
 */
public record Chord(Group header, Signature callback) {
    public Chord {
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(callback, "callback");
    }

    public static Chord of(Group header, Signature callback) {
        return new Chord(header, callback);
    }
}
