package dev.conclab.lab.web;

import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Streams one run to one client as server-sent events. The framing, pacing and keep-alive are shared by every kind
 * of run: {@link #stream(Context, CompletableFuture, Supplier)} takes the run's end and a versioned progress
 * snapshot (system runs use it with their own data). For an experiment run: first the current state, then {@code event: progress}
 * with data {@code {"fraction", "message"}} whenever the progress changed (looked at every
 * {@link #PROGRESS_INTERVAL}, so at most ten a second), then one {@code event: done} with the run record, and the
 * stream ends. A client that connects after the run ended gets {@code done} at once. A run that ended without a
 * record (its experiment would not stop) ends the stream with {@code event: failed} data {@code {"error"}}.
 * While nothing changes, a comment line every {@link #KEEP_ALIVE} finds out whether the client is gone.
 *
 * <p><b>Blocking:</b> {@link #stream} blocks the request's thread (a virtual thread in the web lab) until the run
 * ends or the client goes away; every run ends, also when the lab closes, since closing cancels the runs.
 * Stateless; thread-safe.
 */
final class RunEvents {

    static final Duration PROGRESS_INTERVAL = Duration.ofMillis(100);
    static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    /** The data of a progress event. */
    record ProgressEvent(double fraction, String message) {
    }

    /** A run's progress: {@code data} is sent whenever {@code version} differs from the one last sent. */
    record Snapshot(long version, Object data) {
    }

    private RunEvents() {
    }

    /** Streams {@code run} to the client of {@code ctx}; returns when the run has ended or the client is gone. */
    static void stream(Context ctx, WebRun run) throws IOException {
        stream(ctx, run.finished(), () -> {
            WebRun.Progress p = run.progress();
            return new Snapshot(p.version(), new ProgressEvent(p.fraction(), p.message()));
        });
    }

    /**
     * Streams a run: the current progress first, then each changed {@link Snapshot} (looked at every
     * {@link #PROGRESS_INTERVAL}), then {@code event: done} with what {@code finished} completed with as JSON, or
     * {@code event: failed} {@code {"error"}} with the message of its exception; returns when the run has ended or
     * the client is gone.
     */
    static void stream(Context ctx, CompletableFuture<?> finished, Supplier<Snapshot> progress) throws IOException {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("UTF-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        OutputStream out = ctx.res().getOutputStream();
        long sent = -1;
        long quietSince = System.nanoTime();
        try {
            while (true) {
                try {
                    Object result = finished.get(sent < 0 ? 0 : PROGRESS_INTERVAL.toMillis(),
                            TimeUnit.MILLISECONDS);
                    send(out, "done", Json.line(result));
                    return;
                } catch (ExecutionException e) {
                    send(out, "failed", Json.line(Map.of("error", e.getCause().getMessage())));
                    return;
                } catch (TimeoutException e) {
                    // still running
                }
                Snapshot now = progress.get();
                if (now.version() != sent) {
                    send(out, "progress", Json.line(now.data()));
                    sent = now.version();
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince >= KEEP_ALIVE.toNanos()) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    quietSince = System.nanoTime();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(OutputStream out, String event, String data) throws IOException {
        out.write(("event: " + event + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
