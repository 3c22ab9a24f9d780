package dev.conclab.toolkit.diagnostics.doctor;

import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link SickJvm} running in a child JVM of this one, started only once it is ready (its condition holds), and
 * stopped with all its descendants by {@link #close()}. Use it in try-with-resources or a {@code finally}.
 *
 * <p>Thread safety: {@link #pid()} may be called from any thread; {@link #close()} is idempotent and may be called
 * from any thread. Blocking: {@link #start} blocks until the child is ready (at most its timeout); {@link #close()}
 * waits at most 10 s for the child to die.
 */
public final class SickJvmProcess implements AutoCloseable {
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    private final Process process;

    private SickJvmProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code SickJvm args...} (with {@code -Xss256k} and native access for the {@code pinned} mode) and
     * waits for it to be ready.
     *
     * @throws IOException if it cannot start, exits early, or is not ready within {@code readyTimeout} (it is then
     *                     killed; the message is one line naming its pid)
     */
    public static SickJvmProcess start(Duration readyTimeout, String... args) throws IOException,
            InterruptedException {
        Objects.requireNonNull(readyTimeout, "readyTimeout");
        Process p = JvmLauncher.ofCurrentJvm().withOptions("-Xss256k", "--enable-native-access=ALL-UNNAMED")
                .start(SickJvm.class, args);
        awaitReady(p, readyTimeout);
        return new SickJvmProcess(p);
    }

    /** The child's process id. */
    public long pid() {
        return process.pid();
    }

    /**
     * Waits at most {@code timeout} for {@code p} to print {@value SickJvm#READY} on its standard output. A process
     * that exits first, or is not ready in time, is killed with its descendants and named in the one-line message
     * of the {@link IOException}.
     */
    public static void awaitReady(Process p, Duration timeout) throws IOException, InterruptedException {
        Objects.requireNonNull(p, "p");
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Boolean> ready = new CompletableFuture<>();
        // Read on a virtual thread so that the wait can be bounded; killing the child ends the read (EOF).
        Thread reader = Thread.ofVirtual().name("sick-jvm-ready-reader").start(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8));
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.equals(SickJvm.READY)) {
                        ready.complete(true);
                        return;
                    }
                }
                ready.complete(false);
            } catch (IOException e) {
                ready.complete(false);
            }
        });
        boolean ok = false;
        try {
            ok = ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!ok) {
                throw new IOException("the sick JVM (pid " + p.pid() + ") exited before it was ready");
            }
        } catch (TimeoutException e) {
            throw new IOException("the sick JVM (pid " + p.pid() + ") was not ready within " + timeout.toMillis()
                    + " ms; killed");
        } catch (ExecutionException e) {
            throw new IOException("reading the sick JVM's output failed: " + e.getCause().getMessage());
        } finally {
            if (!ok) {
                stop(p);
            }
            reader.join(Duration.ofSeconds(5));
        }
    }

    /** Kills the child and its descendants and waits for it (at most 10 s). */
    @Override
    public void close() {
        try {
            stop(process);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stop(Process p) throws InterruptedException {
        // Descendants first: once the child is gone they could no longer be found through it.
        List<ProcessHandle> descendants = p.descendants().toList();
        descendants.forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        // The doctor attached to it, and SIGKILL leaves the JVM's attach socket in /tmp.
        AttachSocket.deleteAfterExit(p.toHandle());
        descendants.forEach(AttachSocket::deleteAfterExit);
    }
}
