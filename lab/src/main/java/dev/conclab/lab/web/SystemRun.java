package dev.conclab.lab.web;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One run of a system (crawl or etl) started from the web: its id, its latest progress, how it is being stopped,
 * and once it has ended its {@link SystemRunView} with the summary.
 *
 * <p><b>Thread safety:</b> safe for use from any thread. {@link #progress(Object)} only swaps one reference
 * (lock-free); readers see the latest report with a version that grows by one per report. {@link #stop} records
 * the first reason given (later ones are ignored) and interrupts the run's thread, which the system code answers by
 * stopping. {@link #finished()} completes once, after the run's thread has cleaned up (test site closed, temporary
 * directory deleted) and its slot has been freed.
 */
final class SystemRun {

    /** How a run ended (or that it has not yet). */
    enum Status { RUNNING, COMPLETED, CANCELLED, TIMED_OUT, FAILED }

    private final String id;
    private final String system;
    private final Map<String, Object> params;
    private final AtomicReference<RunEvents.Snapshot> progress;
    private final AtomicReference<Status> stopping = new AtomicReference<>();
    private final CompletableFuture<SystemRunView> finished = new CompletableFuture<>();
    private volatile Thread thread;
    private volatile Path workDir;

    SystemRun(String id, String system, Map<String, Object> params) {
        this.id = id;
        this.system = system;
        this.params = Map.copyOf(params);
        this.progress = new AtomicReference<>(new RunEvents.Snapshot(0, Map.of("phase", "starting")));
    }

    String id() {
        return id;
    }

    String system() {
        return system;
    }

    Map<String, Object> params() {
        return params;
    }

    /** The path of this run's server-sent events. */
    String eventsPath() {
        return "/api/systems/" + system + "/runs/" + id + "/events";
    }

    /** Publishes a progress report (a record or map that serialises as the event's data). */
    void progress(Object data) {
        progress.getAndUpdate(p -> new RunEvents.Snapshot(p.version() + 1, data));
    }

    RunEvents.Snapshot progress() {
        return progress.get();
    }

    /** Asks the run to stop with status {@code why} (CANCELLED or TIMED_OUT); the first reason wins. */
    void stop(Status why) {
        stopping.compareAndSet(null, why);
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Why the run is being stopped, if it is. */
    Optional<Status> stopping() {
        return Optional.ofNullable(stopping.get());
    }

    /** Completes with the run's final view; never exceptionally. */
    CompletableFuture<SystemRunView> finished() {
        return finished;
    }

    boolean done() {
        return finished.isDone();
    }

    /** The thread running the system; set before it starts, so a stop always reaches it. */
    void runOn(Thread thread) {
        this.thread = thread;
    }

    /** The run's temporary directory (etl), for tests; null when it has none. */
    Path workDir() {
        return workDir;
    }

    void workDir(Path dir) {
        this.workDir = dir;
    }

    void finish(SystemRunView view) {
        finished.complete(view);
    }
}
