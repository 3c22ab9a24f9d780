package dev.conclab.toolkit.diagnostics.doctor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * The Unix-domain socket a HotSpot JVM on Linux listens on for attach requests ({@code jcmd}, {@code jstack}):
 * {@code /tmp/.java_pid<pid>}. The JVM creates it on its first attach and deletes it when it exits normally; a JVM
 * killed with SIGKILL leaves it behind. A later process that reuses the pid then refuses every attach: {@code jcmd}
 * connects to an existing socket directly, without the SIGQUIT handshake that would make a JVM open a new one, and
 * gets "Connection refused". Whoever attaches to a child JVM and then kills it deletes the socket with
 * {@link #deleteAfterExit}: {@code java.io.tmpdir} does not move it.
 *
 * <p>Stateless; safe to use from any thread. Nothing here blocks beyond a file-system call.
 */
public final class AttachSocket {
    private static final Path DIRECTORY = Path.of("/tmp");

    private AttachSocket() {
    }

    /** Where the JVM with process id {@code pid} listens for attach requests. */
    static Path of(long pid) {
        return DIRECTORY.resolve(".java_pid" + pid);
    }

    /**
     * The socket of {@code process} if it exists and is older than the process: it was left by an earlier process
     * with the same pid, and it refuses every attach. Empty when there is no such file, or when the process's start
     * time is unknown.
     */
    static Optional<Path> stale(ProcessHandle process) {
        Path socket = of(process.pid());
        Optional<Instant> started = process.info().startInstant();
        if (started.isEmpty()) {
            return Optional.empty();
        }
        try {
            Instant made = Files.getLastModifiedTime(socket, LinkOption.NOFOLLOW_LINKS).toInstant();
            return made.isBefore(started.get()) ? Optional.of(socket) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // no socket, or not ours to read
        }
    }

    /**
     * Deletes the socket of {@code process} once it has exited (a JVM killed with SIGKILL leaves it); does nothing
     * while the process is alive, or when there is no socket. Call it only for a process this JVM started and
     * waited for, so that the pid cannot have been reused meanwhile by a process whose socket this would be.
     */
    public static void deleteAfterExit(ProcessHandle process) {
        if (process.isAlive()) {
            return;
        }
        try {
            Files.deleteIfExists(of(process.pid()));
        } catch (IOException e) {
            // Best effort: a socket left behind costs a file, and the doctor names it if it ever gets in the way.
        }
    }
}
