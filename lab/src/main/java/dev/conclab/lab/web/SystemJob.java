package dev.conclab.lab.web;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A system the web lab can run from its page: its parameters with their bounds, and the run itself.
 *
 * <p>{@link #run} runs on the calling thread (the run's own thread) until the run ends; it answers an interrupt
 * (the run's {@link SystemRun#stop stop}) by stopping what it started, and before it returns or throws it has closed
 * everything it started (servers, threads, temporary files). Implementations are stateless and thread-safe.
 */
sealed interface SystemJob permits CrawlSystemJob, EtlSystemJob {

    /** The system's key: {@code crawl} or {@code etl}. */
    String key();

    /** The parameters, in form order. */
    List<SystemParam> params();

    /** Body fields besides {@code params} that this system accepts (true/false switches). */
    default Set<String> switches() {
        return Set.of();
    }

    /**
     * Runs the system with checked {@code values} (one per parameter) and the switches that were set, publishing
     * progress to {@code run}; returns the summary (serialised as JSON), or throws {@link InterruptedException}
     * when stopped before it has one.
     */
    Object run(Map<String, Object> values, Set<String> switches, SystemRun run) throws Exception;
}
