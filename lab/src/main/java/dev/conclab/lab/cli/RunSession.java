package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Runner;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one experiment for a command, with a progress line and Ctrl-C handling: an interrupt cancels the run and
 * the JVM exits only once the run has stopped and its child processes are gone.
 */
final class RunSession {

    /** The run in progress and its progress line. */
    private record Current(Runner.RunHandle handle, ProgressLine progress) {
    }

    private static final AtomicReference<Current> CURRENT = new AtomicReference<>();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("conclab-cancel").unstarted(() -> {
            Current current = CURRENT.get();
            if (current != null && !current.handle().isDone()) {
                Runner.RunHandle handle = current.handle();
                current.progress().close();
                System.err.println();
                System.err.println("conclab: cancelling the run…");
                handle.cancel();
                try {
                    handle.awaitStopped();
                    System.err.println("conclab: cancelled; its threads and processes have stopped.");
                } catch (Exception e) {
                    System.err.println("conclab: " + e.getMessage());
                }
            }
        }));
    }

    private RunSession() {
    }

    static RunRecord run(Lab lab, Experiment experiment, ParamValues params, boolean quick)
            throws InterruptedException {
        try (ProgressLine progress = new ProgressLine(System.err, experiment.id())) {
            Current current = new Current(lab.runner().start(experiment, params, quick, progress), progress);
            CURRENT.set(current);
            try {
                return current.handle().await();
            } finally {
                CURRENT.compareAndSet(current, null);
            }
        }
    }
}
