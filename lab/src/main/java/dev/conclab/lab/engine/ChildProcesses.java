package dev.conclab.lab.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The child processes one run started. Closing it destroys every tracked process that is still alive, with all
 * its descendants (a CPython probe's pool workers, for example), and waits briefly for them to go.
 *
 * <p><b>Thread safety:</b> safe for concurrent use. A process tracked after {@link #close()} is destroyed at once.
 */
public final class ChildProcesses implements AutoCloseable {

    private final List<Process> processes = new ArrayList<>();
    private boolean closed;

    /** Tracks {@code process} and returns it. */
    public Process track(Process process) {
        boolean destroyNow;
        synchronized (this) {
            destroyNow = closed;
            if (!destroyNow) {
                processes.add(process);
            }
        }
        if (destroyNow) {
            destroy(process);
        }
        return process;
    }

    /** Starts {@code builder} and tracks the process. */
    public Process start(ProcessBuilder builder) throws java.io.IOException {
        return track(builder.start());
    }

    @Override
    public void close() {
        List<Process> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(processes);
            processes.clear();
        }
        all.forEach(ChildProcesses::destroy);
    }

    private static void destroy(Process process) {
        // Descendants first: a killed parent would leave its own children to init.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
