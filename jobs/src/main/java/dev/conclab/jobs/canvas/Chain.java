package dev.conclab.jobs.canvas;

import java.util.List;
import java.util.Objects;

/**
 * Steps run one after another, each receiving the previous step's result as its first argument (Celery's
 * {@code chain}). The broker enqueues each next step atomically with its parent's success; a step that fails for
 * good ends the chain there (later steps are never enqueued). Immutable.
 *
 * @param steps at least one step
 */
public record Chain(List<Signature> steps) {
    public Chain {
        steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a chain needs at least one step");
        }
    }

    public static Chain of(Signature... steps) {
        return new Chain(List.of(steps));
    }
}
