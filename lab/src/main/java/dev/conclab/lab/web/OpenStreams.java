package dev.conclab.lab.web;

import java.io.IOException;
import java.time.Duration;

/**
 * Counts the event streams being written, so that closing the lab can let each one send its last event before the
 * server drops the connections. Thread-safe.
 */
final class OpenStreams {

    /** Guarded by this. */
    private int open;

    /** A stream's body, which may find its client gone. */
    interface Body {
        void write() throws IOException;
    }

    /**
     * Writes one stream, counted as open while {@code body} runs; a client that goes away just ends its stream.
     */
    void write(Body body) {
        opened();
        try {
            body.write();
        } catch (IOException clientGone) {
            // nothing to tell a client that is gone
        } finally {
            closed();
        }
    }

    synchronized void opened() {
        open++;
    }

    synchronized void closed() {
        open--;
        if (open == 0) {
            notifyAll();
        }
    }

    /** Waits until no stream is open, for at most {@code limit}; returns whether none is. */
    synchronized boolean awaitNone(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (open > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }
}
