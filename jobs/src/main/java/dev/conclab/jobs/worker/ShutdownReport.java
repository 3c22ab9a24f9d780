package dev.conclab.jobs.worker;

import java.time.Duration;

/**
 * What a graceful {@link Worker#shutdown} did. Immutable.
 *
 * @param releasedPrefetched messages reserved but not started, given back at once
 * @param finishedInFlight   tasks that were running and finished within the deadline
 * @param releasedRunning    tasks still running at the deadline: interrupted and given back (they will run again)
 * @param took               how long the shutdown took
 */
public record ShutdownReport(int releasedPrefetched, int finishedInFlight, int releasedRunning, Duration took) {
}
