package dev.conclab.jobs.canvas;

import java.util.List;
import java.util.Objects;

/**
 * Tasks run in parallel, independent of each other (Celery's {@code group}): enqueued together, in one broker
 * call where the store allows. Immutable.
 *
 * @param members at least one
 */
public record Group(List<Signature> members) {
    public Group {
        members = List.copyOf(Objects.requireNonNull(members, "members"));
        if (members.isEmpty()) {
            throw new IllegalArgumentException("a group needs at least one member");
        }
    }

    public static Group of(Signature... members) {
        return new Group(List.of(members));
    }
}
