package dev.conclab.lab.web;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ExecutionException;

/**
 * The system runs of the web lab (crawl, etl): admits a run when its system is not already running and a slot of
 * the shared {@link RunSlots} is free (the same global cap as experiment runs), runs it on a virtual thread of its
 * own, stops it after its timeout, and keeps the most recent {@value #KEPT} ended runs for late readers.
 *
 * <p>Each run's thread runs the {@link SystemJob}, then frees the system and the slot, then completes
 * {@link SystemRun#finished()}; a virtual watchdog thread per run stops it with TIMED_OUT when it outlasts
 * {@link #timeout()} and ends with the run.
 *
 * <p><b>Thread safety:</b> safe for concurrent use; admission is atomic. {@link #close()} refuses new runs, stops
 * those running and waits for them to end (each has cleaned up by then: site closed, temporary directory deleted).
 */
final class SystemRuns implements AutoCloseable {

    /** How many ended runs are kept. */
    static final int KEPT = 20;
    /** The default time limit of a system run. */
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** How long closing waits for a stopped run to end. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** A 409: the system's run in progress. */
    static final class Busy extends RuntimeException {
        final SystemRun running;

        Busy(SystemRun running) {
            super(running.system() + " is already running (run " + running.id() + "); wait for it or cancel it",
                    null, false, false);
            this.running = running;
        }
    }

    private final Map<String, SystemJob> jobs = new LinkedHashMap<>();
    private final RunSlots slots;
    private final Duration timeout;
    /** Guarded by this. */
    private final RunBook<SystemRun> book = new RunBook<>("s", KEPT);
    /** Guarded by this. */
    private boolean closed;

    SystemRuns(List<SystemJob> jobs, RunSlots slots, Duration timeout) {
        jobs.forEach(j -> this.jobs.put(j.key(), j));
        this.slots = slots;
        this.timeout = timeout;
    }

    /** The system with {@code key}, if it can be run. */
    Optional<SystemJob> job(String key) {
        return Optional.ofNullable(jobs.get(key));
    }

    Duration timeout() {
        return timeout;
    }

    /**
     * Starts a run of {@code job} with checked values.
     *
     * @throws Busy     (409) when the system is already running
     * @throws ApiError 429 at the cap, 503 when the lab is closing
     */
    synchronized SystemRun start(SystemJob job, Map<String, Object> values, Set<String> switches) {
        if (closed) {
            throw new ApiError(503, "the web lab is shutting down");
        }
        SystemRun busy = book.running(job.key()).orElse(null);
        if (busy != null) {
            throw new Busy(busy);
        }
        slots.tryTake().ifPresent(full -> {
            throw new ApiError(429, full);
        });
        SystemRun run = new SystemRun(book.newId(), job.key(), values);
        Thread thread = Thread.ofVirtual().name("conclab-system-" + run.id()).unstarted(() -> body(job, values,
                switches, run));
        run.runOn(thread);
        book.started(job.key(), run.id(), run);
        thread.start();
        Thread.ofVirtual().name("conclab-system-watchdog-" + run.id()).start(() -> watch(run));
        return run;
    }

    /** The run with {@code id} of {@code system}, running or among the kept ended runs. */
    synchronized Optional<SystemRun> run(String system, String id) {
        return book.run(id).filter(run -> run.system().equals(system));
    }

    /** The system's run in progress, if any. */
    synchronized Optional<SystemRun> running(String system) {
        return book.running(system);
    }

    @Override
    public void close() {
        List<SystemRun> stopping;
        synchronized (this) {
            closed = true;
            stopping = book.runningNow();
        }
        stopping.forEach(r -> r.stop(SystemRun.Status.CANCELLED));
        boolean interrupted = false;
        for (SystemRun run : stopping) {
            try {
                run.finished().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | TimeoutException e) {
                // never completed exceptionally; a run that outlasts the grace is left to end on its own
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void body(SystemJob job, Map<String, Object> values, Set<String> switches, SystemRun run) {
        Object summary = null;
        String error = null;
        try {
            summary = job.run(values, switches, run);
        } catch (InterruptedException e) {
            // stopped before there was a summary
        } catch (Exception | Error e) {
            error = String.valueOf(e.getMessage() == null ? e : e.getMessage()).lines().findFirst().orElse("");
        }
        Thread.interrupted(); // a stop that came late is answered by the status below
        SystemRun.Status status = run.stopping().orElse(error != null ? SystemRun.Status.FAILED
                : summary != null ? SystemRun.Status.COMPLETED : SystemRun.Status.CANCELLED);
        SystemRunView view = SystemRunView.ended(run, status, summary,
                status == SystemRun.Status.FAILED ? error : null);
        synchronized (this) {
            book.ended(run.system(), run);
            slots.release();
        }
        run.finish(view);
    }

    private void watch(SystemRun run) {
        try {
            run.finished().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            run.stop(SystemRun.Status.TIMED_OUT);
        } catch (InterruptedException | ExecutionException e) {
            // not interrupted by anyone; finished never fails
        }
    }


}
