package dev.conclab.lab.engine;

/**
 * Receives a run's progress. Called from the experiment's threads, possibly concurrently; implementations must
 * be thread-safe and quick, since they run inside the measured code's thread.
 */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (fraction, message) -> { };

    /**
     * @param fraction done so far, from 0 to 1
     * @param message  what is running now
     */
    void progress(double fraction, String message);
}
