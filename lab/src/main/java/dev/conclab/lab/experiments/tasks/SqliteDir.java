package dev.conclab.lab.experiments.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temporary directory holding one SQLite broker file; {@link #close} deletes it with the WAL and shared-memory
 * files next to it. Every broker on it must be closed first. Immutable; safe to share.
 */
final class SqliteDir implements AutoCloseable {

    private final Path dir;

    private SqliteDir(Path dir) {
        this.dir = dir;
    }

    static SqliteDir create(String prefix) throws IOException {
        return new SqliteDir(Files.createTempDirectory(prefix));
    }

    /** The broker URL of the file {@code name} in this directory. */
    String url(String name) {
        return "sqlite:" + dir.resolve(name);
    }

    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
