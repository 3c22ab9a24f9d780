package dev.conclab.toolkit.diagnostics.doctor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Unix-domain socket through which the JDK's attach mechanism ({@code jcmd}, {@code jstack}, the doctor)
 * reaches a HotSpot JVM on Linux: {@code /tmp/.java_pid<pid>}. The target JVM creates it on its first attach and
 * removes it when it exits normally; a JVM killed with SIGKILL after an attach leaves it behind for good. HotSpot
 * always puts it in {@code /tmp} ({@code java.io.tmpdir} does not move it), so whoever attaches to a child JVM and
 * then kills it deletes the socket with {@link #deleteLeftBy}.
 *
 * <p><b>Thread safety:</b> stateless; safe from any thread.
 */
public final class AttachSocket {

    private AttachSocket() {
    }

    /** Where HotSpot on Linux puts the attach socket of the JVM with process id {@code pid}. */
    public static Path of(long pid) {
        return Path.of("/tmp", ".java_pid" + pid);
    }

    /**
     * Deletes the attach socket a dead JVM left behind, if there is one. Does nothing while the process is still
     * alive (its socket is in use), so a caller may call it after a bounded wait that timed out.
     *
     * @return whether a socket was deleted
     * @throws UncheckedIOException if the socket exists and cannot be deleted
     */
    public static boolean deleteLeftBy(ProcessHandle jvm) {
        if (jvm.isAlive()) {
            return false;
        }
        Path socket = of(jvm.pid());
        try {
            return Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the dead JVM's attach socket " + socket + ": "
                    + e.getMessage(), e);
        }
    }
}
