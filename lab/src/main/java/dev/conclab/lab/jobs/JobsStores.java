package dev.conclab.lab.jobs;

import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.broker.redis.RedisBrokerConfig;
import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.examples.ExampleDags;
import dev.conclab.jobs.dag.yaml.DagFileLoader;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the jobs system keeps its state, as {@code ./conclab jobs} names it: the broker's URL ({@code --broker}),
 * the SQLite file of DAG runs ({@code --store}) and the directory of DAG YAML files ({@code --dags}). The defaults
 * are the CLI's: {@code $CONCLAB_JOBS_BROKER}, else {@code sqlite:~/.conclab/jobs.db}; {@code ~/.conclab/dags.db};
 * {@code $CONCLAB_DAGS}, else the DAG examples shipped in the jar. Immutable; thread-safe.
 *
 * @param brokerUrl a URL {@link dev.conclab.jobs.broker.Brokers#open} knows
 * @param dagStore  the SQLite file of DAG runs
 * @param dagsDir   a directory of DAG YAML files, or {@code null} for the shipped examples
 */
public record JobsStores(String brokerUrl, Path dagStore, Path dagsDir) {

    public JobsStores {
        Objects.requireNonNull(brokerUrl, "brokerUrl");
        Objects.requireNonNull(dagStore, "dagStore");
    }

    /** The CLI's defaults, read from the environment now. */
    public static JobsStores defaults() {
        return new JobsStores(defaultBrokerUrl(), defaultDagStore(), defaultDagsDir());
    }

    /** {@code $CONCLAB_JOBS_BROKER}, else {@code sqlite:~/.conclab/jobs.db}. */
    public static String defaultBrokerUrl() {
        String env = System.getenv("CONCLAB_JOBS_BROKER");
        if (env != null && !env.isBlank()) {
            return env;
        }
        return "sqlite:" + home().resolve("jobs.db");
    }

    /** {@code ~/.conclab/dags.db}. */
    public static Path defaultDagStore() {
        return home().resolve("dags.db");
    }

    /** {@code $CONCLAB_DAGS}, or {@code null} (the shipped examples). */
    public static Path defaultDagsDir() {
        String env = System.getenv("CONCLAB_DAGS");
        return env == null || env.isBlank() ? null : Path.of(env);
    }

    private static Path home() {
        return Path.of(System.getProperty("user.home"), ".conclab");
    }

    /**
     * The DAGs: the YAML files of {@link #dagsDir}, or the shipped examples. Parsed afresh on every call.
     *
     * @throws IllegalArgumentException if the directory does not exist or a file is not a valid DAG
     */
    public List<Dag> dags() {
        if (dagsDir == null) {
            return ExampleDags.load();
        }
        if (!Files.isDirectory(dagsDir)) {
            throw new IllegalArgumentException("--dags " + dagsDir + " is not a directory");
        }
        return DagFileLoader.loadAll(dagsDir);
    }

    /**
     * Checks what can be checked without creating a file or connecting anywhere, as a reader about to serve these
     * stores for a long time should: the broker URL's scheme and form ({@code sqlite:PATH} whose file is not a
     * directory, or a well-formed {@code redis://} URL; whether Redis answers is only known when it is read), the
     * DAG store is not a directory, and the DAG definitions load ({@link #dags()}).
     *
     * @throws IllegalArgumentException naming the option, the value and the problem, in one line
     */
    public void check() {
        String url = brokerUrl.strip();
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("sqlite:")) {
            Path file = brokerFile().orElseThrow(() -> new IllegalArgumentException("--broker " + brokerUrl
                    + " names no file; give sqlite:PATH, e.g. sqlite:./conclab-jobs.db"));
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("--broker " + brokerUrl + ": " + file
                        + " is a directory, not a SQLite file");
            }
        } else if (lower.startsWith("redis://")) {
            try {
                RedisBrokerConfig.fromUrl(url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--broker " + brokerUrl + ": " + oneLine(e.getMessage()), e);
            }
        } else {
            throw new IllegalArgumentException("--broker " + brokerUrl + " is not a broker URL; known: "
                    + String.join(", ", Brokers.SCHEMES));
        }
        if (Files.isDirectory(dagStore)) {
            throw new IllegalArgumentException("--store " + dagStore + " is a directory, not a SQLite file");
        }
        try {
            dags();
        } catch (RuntimeException e) {
            String message = oneLine(e.getMessage());
            throw new IllegalArgumentException(message.startsWith("--dags") ? message
                    : "--dags " + (dagsDir == null ? "(the shipped examples)" : dagsDir) + ": " + message, e);
        }
    }

    private static String oneLine(String text) {
        return String.valueOf(text).strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /**
     * The broker's file when the broker is SQLite (the path part of {@code sqlite:PATH[?options]}, read as
     * {@link dev.conclab.jobs.broker.Brokers#open} reads it), so a reader can tell that it does not exist yet
     * without opening it (opening creates it); empty for other brokers or a malformed URL.
     */
    public Optional<Path> brokerFile() {
        String url = brokerUrl.strip();
        if (!url.toLowerCase(Locale.ROOT).startsWith("sqlite:")) {
            return Optional.empty();
        }
        String path = url.substring("sqlite:".length());
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        if (path.startsWith("//")) {
            path = path.substring(2);
        }
        try {
            return path.isBlank() ? Optional.empty() : Optional.of(Path.of(path));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
