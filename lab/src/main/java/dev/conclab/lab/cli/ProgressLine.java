package dev.conclab.lab.cli;

import dev.conclab.lab.engine.ProgressListener;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A progress bar on standard error for runs that last over a second, redrawn in place on a terminal. Off when
 * standard error is not a terminal, so logs stay clean. Thread-safe; {@link #close()} erases the line.
 */
final class ProgressLine implements ProgressListener, AutoCloseable {

    private static final long SHOW_AFTER_MS = 1_000;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String name;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService ticker;
    private volatile double fraction;
    private volatile String message = "";
    private boolean drawn;

    ProgressLine(PrintStream err, String name) {
        this.err = err;
        this.name = name;
        boolean terminal = System.console() != null && System.console().isTerminal();
        this.ticker = terminal ? Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                .daemon(true).name("conclab-progress").unstarted(r)) : null;
        if (ticker != null) {
            ticker.scheduleAtFixedRate(this::draw, SHOW_AFTER_MS, 200, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void progress(double fraction, String message) {
        this.fraction = fraction;
        this.message = message;
    }

    private synchronized void draw() {
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = (System.nanoTime() - start) / 1e9;
        String text = String.format("\r%s [%s%s] %3.0f%% %4.1fs %s", name, "#".repeat(filled),
                ".".repeat(WIDTH - filled), fraction * 100, seconds, message);
        err.print(text.length() > 118 ? text.substring(0, 118) : text + "\033[K");
        err.flush();
        drawn = true;
    }

    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        if (drawn) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
