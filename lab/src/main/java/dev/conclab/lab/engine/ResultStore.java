package dev.conclab.lab.engine;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The latest run of each experiment, as one JSON file per experiment under {@code <home>/results/}. A card shows
 * the latest evidence from here, with where and when it was measured.
 *
 * <p>The home is the system property {@code conclab.home}, else the environment variable {@code CONCLAB_HOME},
 * else {@code ~/.conclab}.
 *
 * <p><b>Thread safety:</b> safe for concurrent use; a file is written to a temporary name and moved into place,
 * so a reader sees a whole record or the previous one, never half of one.
 */
public final class ResultStore {

    /** The mapper every face uses to read and write records, so the CLI and the web lab agree on the format. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dir;

    public ResultStore(Path home) {
        this.dir = home.resolve("results");
    }

    /** The store under the configured home. */
    public static ResultStore atDefaultHome() {
        return new ResultStore(defaultHome());
    }

    public static Path defaultHome() {
        String property = System.getProperty("conclab.home");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv("CONCLAB_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".conclab");
    }

    public void save(RunRecord record) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, record.experiment(), ".tmp");
            JSON.writeValue(tmp.toFile(), record);
            Files.move(tmp, file(record.experiment()), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the result of " + record.experiment() + " in " + dir, e);
        }
    }

    /** The latest stored run of {@code experiment}; empty when none was stored or the file is unreadable. */
    public Optional<RunRecord> latest(String experiment) {
        Path file = file(experiment);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), RunRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Path file(String experiment) {
        return dir.resolve(experiment + ".json");
    }
}
