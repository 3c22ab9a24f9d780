package dev.conclab.jobs.task;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.broker.TaskMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A registered task: its name, its parameters (count and JSON types, checked on submit), its body, and the defaults
 * a submission inherits unless it overrides them (queue, retries and their back-off, time limits) plus what only the
 * definition decides (the rate limit shared by all workers, the idempotent flag). Immutable and thread-safe; built
 * with {@link #builder}.
 *
 * @param name           the name tasks are submitted by: letters, digits, {@code . _ -}, 1 to 200 characters
 * @param params         one JSON type per parameter; the arity is its size
 * @param body           the code
 * @param queue          the default queue
 * @param maxRetries     retries after the first attempt before the task is dead-lettered
 * @param backoffBase    the first retry's maximum delay; each retry doubles it (full jitter: a uniform draw below)
 * @param backoffCap     the largest maximum delay
 * @param softLimit      zero, or the run time after which the body's thread is interrupted
 * @param hardLimit      zero, or the run time after which the worker abandons the task and fails it
 * @param rateLimit      null, or the rate all workers together start this task at
 * @param idempotent     whether running it twice is harmless (documentation for callers and for {@code inspect};
 *                       delivery is at least once either way)
 */
public record TaskDefinition(
        String name,
        List<ArgType> params,
        TaskBody body,
        String queue,
        int maxRetries,
        Duration backoffBase,
        Duration backoffCap,
        Duration softLimit,
        Duration hardLimit,
        RateLimit rateLimit,
        boolean idempotent) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");

    public TaskDefinition {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("task name must be 1-200 of [A-Za-z0-9._-], was '" + name + "'");
        }
        params = List.copyOf(Objects.requireNonNull(params, "params"));
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(queue, "queue");
        if (queue.isBlank()) {
            throw new IllegalArgumentException("queue must not be blank (task " + name + ")");
        }
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries + " (task " + name + ")");
        }
        requireNonNegative("backoffBase", backoffBase, name);
        requireNonNegative("backoffCap", backoffCap, name);
        requireNonNegative("softLimit", softLimit, name);
        requireNonNegative("hardLimit", hardLimit, name);
        if (backoffCap.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException("backoffCap " + backoffCap + " < backoffBase " + backoffBase
                    + " (task " + name + ")");
        }
        if (!softLimit.isZero() && !hardLimit.isZero() && hardLimit.compareTo(softLimit) < 0) {
            throw new IllegalArgumentException("hardLimit " + hardLimit + " < softLimit " + softLimit
                    + " (task " + name + ")");
        }
    }

    private static void requireNonNegative(String what, Duration d, String task) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must be >= 0, was " + d + " (task " + task + ")");
        }
    }

    /** The number of arguments a submission must give. */
    public int arity() {
        return params.size();
    }

    /**
     * Checks submitted arguments: {@code leading} values come later from the canvas (a chain's parent result, a
     * chord's results) and are not checked; the rest must match the declared parameters in number and type.
     *
     * @throws SubmitException naming the task, the position, the expected and the actual
     */
    public void check(List<JsonNode> args, int leading) {
        int expected = params.size() - leading;
        if (expected < 0) {
            throw new SubmitException("task '" + name + "' takes " + params.size() + " argument(s), fewer than the "
                    + leading + " its place in a canvas passes it");
        }
        if (args.size() != expected) {
            String from = leading == 0 ? "" : " (besides the " + leading + " the canvas passes)";
            throw new SubmitException("task '" + name + "' expects " + expected + " argument(s)" + from + ", got "
                    + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            ArgType type = params.get(i + leading);
            if (!type.accepts(args.get(i))) {
                throw new SubmitException("task '" + name + "' argument " + (i + leading) + ": expected "
                        + type.name().toLowerCase(java.util.Locale.ROOT) + ", got " + ArgType.describe(args.get(i)));
            }
        }
    }

    /** A builder for a task of this name and body; every parameter is {@link ArgType#ANY} unless declared. */
    public static Builder builder(String name, TaskBody body) {
        return new Builder(name, body);
    }

    /** Builds a {@link TaskDefinition}; not thread-safe. Defaults: no parameters, queue "default", no retries,
     *  back-off 1 s doubling up to 60 s, no time limits, no rate limit, not idempotent. */
    public static final class Builder {
        private final String name;
        private final TaskBody body;
        private final List<ArgType> params = new ArrayList<>();
        private String queue = TaskMessage.DEFAULT_QUEUE;
        private int maxRetries;
        private Duration backoffBase = Duration.ofSeconds(1);
        private Duration backoffCap = Duration.ofSeconds(60);
        private Duration softLimit = Duration.ZERO;
        private Duration hardLimit = Duration.ZERO;
        private RateLimit rateLimit;
        private boolean idempotent;

        private Builder(String name, TaskBody body) {
            this.name = name;
            this.body = body;
        }

        /** Declares the parameters' types (replacing any declared before). */
        public Builder params(ArgType... types) {
            params.clear();
            params.addAll(List.of(types));
            return this;
        }

        /** Declares {@code n} parameters of any type. */
        public Builder arity(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("arity must be >= 0, was " + n);
            }
            params.clear();
            for (int i = 0; i < n; i++) {
                params.add(ArgType.ANY);
            }
            return this;
        }

        public Builder queue(String queue) {
            this.queue = queue;
            return this;
        }

        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** Retry back-off: the first retry waits up to {@code base}, each next one twice as long, up to {@code cap}. */
        public Builder backoff(Duration base, Duration cap) {
            this.backoffBase = base;
            this.backoffCap = cap;
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

        /** At most {@code permitsPerSecond} starts per second across all workers, with bursts of {@code burst}. */
        public Builder rateLimit(double permitsPerSecond, int burst) {
            this.rateLimit = new RateLimit(permitsPerSecond, burst);
            return this;
        }

        public Builder idempotent(boolean idempotent) {
            this.idempotent = idempotent;
            return this;
        }

        public TaskDefinition build() {
            return new TaskDefinition(name, params, body, queue, maxRetries, backoffBase, backoffCap, softLimit,
                    hardLimit, rateLimit, idempotent);
        }
    }
}
