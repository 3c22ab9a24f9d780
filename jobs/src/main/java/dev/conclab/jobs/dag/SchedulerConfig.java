package dev.conclab.jobs.dag;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link DagScheduler} talks to the queue and how often its loop wakes.
 *
 * @param queue        the queue its task messages go to
 * @param pollInterval how long the loop sleeps between rounds when nothing wakes it (1 ms .. 1 min)
 */
public record SchedulerConfig(String queue, Duration pollInterval) {

    public SchedulerConfig {
        Objects.requireNonNull(queue, "queue");
        if (queue.isBlank()) {
            throw new IllegalArgumentException("queue is blank");
        }
        Objects.requireNonNull(pollInterval, "pollInterval");
        if (pollInterval.toMillis() < 1 || pollInterval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("poll interval must be 1 ms .. 1 min, was " + pollInterval);
        }
    }

    /** The default queue, polled every 100 ms. */
    public static SchedulerConfig defaults() {
        return new SchedulerConfig(dev.conclab.jobs.broker.TaskMessage.DEFAULT_QUEUE, Duration.ofMillis(100));
    }

    /** This config with another poll interval. */
    public SchedulerConfig withPollInterval(Duration interval) {
        return new SchedulerConfig(queue, interval);
    }
}
