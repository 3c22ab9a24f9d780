package dev.conclab.jobs.client;

import dev.conclab.jobs.broker.TaskMessage;
import java.time.Duration;
import java.time.Instant;

/**
 * Per-submission overrides of a task's defaults (Celery's {@code apply_async} options). Immutable; a null field
 * means "the task's default". Built with {@link #builder()}; {@link #DEFAULTS} overrides nothing.
 *
 * @param countdown      run no sooner than this long after submission (null: at once)
 * @param eta            run no sooner than this instant (null: at once); with a countdown, the later of both
 * @param priority       0..9, higher first (null: 0)
 * @param queue          the queue (null: the task's)
 * @param idempotencyKey a key suppressing later submissions with the same key (null: none)
 * @param maxRetries     retries before dead-lettering (null: the task's)
 * @param softLimit      the soft time limit (null: the task's; zero: none)
 * @param hardLimit      the hard time limit (null: the task's; zero: none)
 */
public record SubmitOptions(
        Duration countdown,
        Instant eta,
        Integer priority,
        String queue,
        String idempotencyKey,
        Integer maxRetries,
        Duration softLimit,
        Duration hardLimit) {

    /** No overrides. */
    public static final SubmitOptions DEFAULTS = new SubmitOptions(null, null, null, null, null, null, null, null);

    public SubmitOptions {
        if (countdown != null && countdown.isNegative()) {
            throw new IllegalArgumentException("countdown must be >= 0, was " + countdown);
        }
        if (priority != null && (priority < TaskMessage.MIN_PRIORITY || priority > TaskMessage.MAX_PRIORITY)) {
            throw new IllegalArgumentException("priority must be 0..9, was " + priority);
        }
        if (queue != null && queue.isBlank()) {
            throw new IllegalArgumentException("queue must not be blank");
        }
        if (idempotencyKey != null && idempotencyKey.isEmpty()) {
            throw new IllegalArgumentException("idempotencyKey must not be empty (use null for none)");
        }
        if (maxRetries != null && maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
        }
        if (softLimit != null && softLimit.isNegative()) {
            throw new IllegalArgumentException("softLimit must be >= 0, was " + softLimit);
        }
        if (hardLimit != null && hardLimit.isNegative()) {
            throw new IllegalArgumentException("hardLimit must be >= 0, was " + hardLimit);
        }
    }

    /** A builder with no overrides. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link SubmitOptions}; not thread-safe. */
    public static final class Builder {
        private Duration countdown;
        private Instant eta;
        private Integer priority;
        private String queue;
        private String idempotencyKey;
        private Integer maxRetries;
        private Duration softLimit;
        private Duration hardLimit;

        private Builder() {
        }

        public Builder countdown(Duration countdown) {
            this.countdown = countdown;
            return this;
        }

        public Builder eta(Instant eta) {
            this.eta = eta;
            return this;
        }

        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        public Builder queue(String queue) {
            this.queue = queue;
            return this;
        }

        public Builder idempotencyKey(String key) {
            this.idempotencyKey = key;
            return this;
        }

        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        public Builder softLimit(Duration softLimit) {
            this.softLimit = softLimit;
            return this;
        }

        public Builder hardLimit(Duration hardLimit) {
            this.hardLimit = hardLimit;
            return this;
        }

        public SubmitOptions build() {
            return new SubmitOptions(countdown, eta, priority, queue, idempotencyKey, maxRetries, softLimit,
                    hardLimit);
        }
    }
}
