package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.TaskMessage;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * How a {@link Worker} runs. Immutable; built with {@link #builder()}.
 *
 * @param consumer           the name the broker knows this worker by (unique among live workers)
 * @param pool               how task bodies run
 * @param concurrency        how many task bodies run at once, 1 to 10,000
 * @param prefetchMultiplier the worker reserves at most {@code concurrency × prefetchMultiplier} messages, running
 *                           ones included (Celery's {@code worker_prefetch_multiplier}, default 4)
 * @param queues             the queues consumed, earlier first
 * @param visibility         the reservation timeout: a dead worker's messages are redelivered after it; the
 *                           heartbeat extends live reservations every third of it
 * @param revocationPoll     how often running tasks' ids are checked against the broker's revocations
 * @param fetchWait          how long one {@code reserve} call waits for work (bounds how late a shutdown notices)
 * @param registryClass      null, or the binary name of a {@code Supplier<TaskRegistry>} class with a public
 *                           no-argument constructor; required by {@link PoolKind#PROCESSES}, whose children rebuild
 *                           the registry from it
 * @param trackStarted       whether a task's start is recorded (state STARTED, start time, worker): one more
 *                           broker write per task. On here; Celery's {@code task_track_started} is off by default
 */
public record WorkerConfig(
        String consumer,
        PoolKind pool,
        int concurrency,
        int prefetchMultiplier,
        List<String> queues,
        Duration visibility,
        Duration revocationPoll,
        Duration fetchWait,
        String registryClass,
        boolean trackStarted) {

    /** Celery's {@code worker_prefetch_multiplier} default. */
    public static final int DEFAULT_PREFETCH_MULTIPLIER = 4;
    /** The default visibility timeout (the 30 s). */
    public static final Duration DEFAULT_VISIBILITY = Duration.ofSeconds(30);

    public WorkerConfig {
        Objects.requireNonNull(consumer, "consumer");
        if (consumer.isBlank()) {
            throw new IllegalArgumentException("consumer must not be blank");
        }
        Objects.requireNonNull(pool, "pool");
        if (concurrency < 1 || concurrency > 10_000) {
            throw new IllegalArgumentException("concurrency must be 1..10000, was " + concurrency);
        }
        if (prefetchMultiplier < 1 || prefetchMultiplier > 1_000) {
            throw new IllegalArgumentException("prefetchMultiplier must be 1..1000, was " + prefetchMultiplier);
        }
        queues = List.copyOf(Objects.requireNonNull(queues, "queues"));
        if (queues.isEmpty() || queues.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("queues must be non-empty names, was " + queues);
        }
        requirePositive("visibility", visibility, Duration.ofMillis(30));
        requirePositive("revocationPoll", revocationPoll, Duration.ofMillis(1));
        requirePositive("fetchWait", fetchWait, Duration.ofMillis(1));
        if (pool == PoolKind.PROCESSES && registryClass == null) {
            throw new IllegalArgumentException("the processes pool needs registryClass: a Supplier<TaskRegistry>"
                    + " class its child JVMs can load (task bodies cannot cross a process boundary)");
        }
    }

    private static void requirePositive(String what, Duration d, Duration min) {
        Objects.requireNonNull(d, what);
        if (d.compareTo(min) < 0) {
            throw new IllegalArgumentException(what + " must be >= " + min.toMillis() + " ms, was " + d);
        }
    }

    /** How many messages the worker holds at most (reserved, prefetched or running). */
    public int prefetchLimit() {
        return Math.multiplyExact(concurrency, prefetchMultiplier);
    }

    /** How often reservations are extended: a third of the visibility timeout. */
    public Duration heartbeat() {
        return visibility.dividedBy(3);
    }

    /** A builder with the defaults: virtual threads, one per core, multiplier 4, queue "default", 30 s visibility. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link WorkerConfig}; not thread-safe. */
    public static final class Builder {
        private String consumer = defaultConsumer();
        private PoolKind pool = PoolKind.VTHREADS;
        private int concurrency = Runtime.getRuntime().availableProcessors();
        private int prefetchMultiplier = DEFAULT_PREFETCH_MULTIPLIER;
        private List<String> queues = List.of(TaskMessage.DEFAULT_QUEUE);
        private Duration visibility = DEFAULT_VISIBILITY;
        private Duration revocationPoll = Duration.ofMillis(200);
        private Duration fetchWait = Duration.ofMillis(100);
        private String registryClass;
        private boolean trackStarted = true;

        private Builder() {
        }

        private static String defaultConsumer() {
            return "worker-" + ManagementFactory.getRuntimeMXBean().getPid() + "-"
                    + UUID.randomUUID().toString().substring(0, 8);
        }

        public Builder consumer(String consumer) {
            this.consumer = consumer;
            return this;
        }

        public Builder pool(PoolKind pool) {
            this.pool = pool;
            return this;
        }

        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        public Builder prefetchMultiplier(int prefetchMultiplier) {
            this.prefetchMultiplier = prefetchMultiplier;
            return this;
        }

        public Builder queues(List<String> queues) {
            this.queues = queues;
            return this;
        }

        public Builder visibility(Duration visibility) {
            this.visibility = visibility;
            return this;
        }

        public Builder revocationPoll(Duration revocationPoll) {
            this.revocationPoll = revocationPoll;
            return this;
        }

        public Builder fetchWait(Duration fetchWait) {
            this.fetchWait = fetchWait;
            return this;
        }

        public Builder registryClass(String registryClass) {
            this.registryClass = registryClass;
            return this;
        }

        public Builder trackStarted(boolean trackStarted) {
            this.trackStarted = trackStarted;
            return this;
        }

        public WorkerConfig build() {
            return new WorkerConfig(consumer, pool, concurrency, prefetchMultiplier, queues, visibility,
                    revocationPoll, fetchWait, registryClass, trackStarted);
        }
    }
}
