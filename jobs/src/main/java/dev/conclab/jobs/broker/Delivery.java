package dev.conclab.jobs.broker;

import java.util.Objects;

/**
 * A message reserved by one consumer: it is invisible to every other consumer until the reservation's visibility
 * timeout passes, then it is delivered again (at-least-once). The receipt proves which reservation a settlement
 * belongs to; a settlement with a stale receipt (the message was redelivered meanwhile) still counts only if the task
 * has no final state yet.
 *
 * @param message        the task
 * @param consumer       the consumer (worker) that holds it
 * @param receipt        the broker's handle for this reservation (SQLite: a lease token; Redis: the stream entry id)
 * @param deliveryCount  1 on the first delivery; each redelivery after a lapsed reservation adds one
 */
public record Delivery(TaskMessage message, String consumer, String receipt, int deliveryCount) {
    public Delivery {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(consumer, "consumer");
        Objects.requireNonNull(receipt, "receipt");
        if (deliveryCount < 1) {
            throw new IllegalArgumentException("deliveryCount must be >= 1, was " + deliveryCount);
        }
    }

    /** Whether an earlier reservation of this message lapsed (its worker died, or was too slow to extend it). */
    public boolean redelivered() {
        return deliveryCount > 1;
    }
}
