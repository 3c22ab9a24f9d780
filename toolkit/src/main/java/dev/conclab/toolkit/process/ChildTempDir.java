package dev.conclab.toolkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temp directory owned by a parent JVM for the child JVMs it may kill: pass it to
 * {@link JvmLauncher#withTempDir(Path)}, and {@link #close()} it once those children are dead. A JVM killed with
 * SIGKILL never deletes its own temp files (sqlite-jdbc's copy of its native library, {@code deleteOnExit} files);
 * here they go into this directory, and close deletes them with it.
 *
 * <p><b>Thread safety:</b> {@link #path()} may be called from any thread. {@link #close()} must not race with a
 * child still writing into the directory: the owner closes it after the children have been waited for.
 */
public final class ChildTempDir implements AutoCloseable {

    private final Path path;

    private ChildTempDir(Path path) {
        this.path = path;
    }

    /**
     * Creates a fresh directory named {@code prefix...} under this JVM's {@code java.io.tmpdir}.
     *
     * @throws UncheckedIOException if it cannot be created
     */
    public static ChildTempDir create(String prefix) {
        try {
            return new ChildTempDir(Files.createTempDirectory(prefix));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp directory for child JVMs: " + e.getMessage(), e);
        }
    }

    /** The directory. */
    public Path path() {
        return path;
    }

    /**
     * Deletes the directory and everything in it; does nothing if it is already gone.
     *
     * @throws UncheckedIOException if something in it cannot be deleted
     */
    @Override
    public void close() {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            // Deepest first, so that every directory is empty when its turn comes.
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the child JVMs' temp directory " + path + ": "
                    + e.getMessage(), e);
        }
    }
}
