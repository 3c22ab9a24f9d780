package dev.conclab.toolkit.pipeline;

import java.util.Objects;

/**
 * An item a stage could not process, with the stage's name and the cause. Immutable.
 *
 * @param stage the name of the stage that failed on the item
 * @param item  the item as the stage received it
 * @param cause what the stage threw
 */
public record DeadLetter(String stage, Object item, Throwable cause) {
    public DeadLetter {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(cause, "cause");
    }
}
