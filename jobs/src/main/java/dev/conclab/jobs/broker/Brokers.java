package dev.conclab.jobs.broker;

import dev.conclab.jobs.broker.redis.RedisBroker;
import dev.conclab.jobs.broker.redis.RedisBrokerConfig;
import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import dev.conclab.jobs.broker.sqlite.SqliteOptions;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Opens a {@link Broker} from a URL, as the CLI's {@code --broker} option gives it. Stateless and thread-safe; each
 * call opens a new broker that the caller must close.
 *
 * <ul>
 *   <li>{@code sqlite:PATH} — the embedded broker on the file PATH (created with its directories if missing), e.g.
 *       {@code sqlite:./conclab-jobs.db} or {@code sqlite:/var/lib/conclab/jobs.db}. Options after a {@code ?}:
 *       {@code synchronous=NORMAL|FULL} (default NORMAL: survives a process crash, not a power loss; FULL fsyncs
 *       every commit) and {@code busyTimeoutMs=N} (default 10000), joined by {@code &}.
 *       {@code sqlite::memory:} is refused: an in-memory database lives and dies with one connection, so nothing
 *       would survive a restart and no second worker could share it, which defeats a durable queue.</li>
 *   <li>{@code redis://HOST:PORT[/DB][?prefix=P]} — Redis Streams with consumer groups, for workers on many
 *       machines ({@link RedisBroker}); database 0 and prefix {@code conclab:jobs:} unless given. The broker
 *       connects lazily, so opening succeeds while the server is down. {@code rediss://} (TLS) is refused.</li>
 * </ul>
 */
public final class Brokers {

    /** The URL schemes {@link #open} knows. */
    public static final List<String> SCHEMES = List.of("sqlite:PATH", "redis://HOST:PORT[/DB][?prefix=P]");

    private Brokers() {
    }

    /**
     * Opens the broker the URL names.
     *
     * @throws IllegalArgumentException if the URL is malformed, names an unknown scheme, or an in-memory SQLite, or
     *         a Redis URL is malformed (see {@link RedisBrokerConfig#fromUrl})
     * @throws dev.conclab.jobs.broker.sqlite.SqliteStoreException if the SQLite file cannot be opened
     */
    public static Broker open(String url) {
        Objects.requireNonNull(url, "url");
        String trimmed = url.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty broker URL; known: " + SCHEMES);
        }
        String lower = trimmed.toLowerCase(Locale.ROOT);
        if (lower.startsWith("sqlite:")) {
            return openSqlite(trimmed.substring("sqlite:".length()), url);
        }
        if (lower.startsWith("rediss://")) {
            throw new IllegalArgumentException("TLS to Redis (rediss://) is not supported; use redis:// on a "
                    + "trusted network: " + url);
        }
        if (lower.startsWith("redis://")) {
            return RedisBroker.open(RedisBrokerConfig.fromUrl(trimmed));
        }
        int colon = trimmed.indexOf(':');
        String scheme = colon > 0 ? trimmed.substring(0, colon) : "(none)";
        throw new IllegalArgumentException("unknown broker URL scheme " + scheme + " in " + url + "; known: "
                + SCHEMES);
    }

    private static Broker openSqlite(String rest, String url) {
        String pathText = rest;
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            pathText = rest.substring(0, q);
            query = rest.substring(q + 1);
        }
        if (pathText.startsWith("//")) {
            pathText = pathText.substring(2); // tolerate sqlite:///abs/path and sqlite://rel/path
        }
        if (pathText.isBlank()) {
            throw new IllegalArgumentException("sqlite: needs a file path, e.g. sqlite:./conclab-jobs.db; got " + url);
        }
        if (pathText.equals(":memory:") || pathText.startsWith("file::memory:") || pathText.contains("mode=memory")) {
            throw new IllegalArgumentException("an in-memory SQLite database cannot hold a task queue: it vanishes "
                    + "with its connection (nothing survives a restart) and no other worker process can open it; "
                    + "give a file, e.g. sqlite:./conclab-jobs.db (got " + url + ")");
        }
        Path path;
        try {
            path = Path.of(pathText);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("not a file path in " + url + ": " + e.getMessage(), e);
        }
        return SqliteBroker.open(path, sqliteOptions(query, url));
    }

    private static SqliteOptions sqliteOptions(String query, String url) {
        SqliteOptions options = SqliteOptions.DEFAULTS;
        if (query == null || query.isEmpty()) {
            return options;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected name=value, got '" + pair + "' in " + url);
            }
            String name = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            options = switch (name) {
                case "synchronous" -> options.withSynchronous(SqliteOptions.Synchronous.parse(value));
                case "busyTimeoutMs" -> options.withBusyTimeout(Duration.ofMillis(parseMillis(value, url)));
                default -> throw new IllegalArgumentException("unknown sqlite option '" + name + "' in " + url
                        + "; known: synchronous=NORMAL|FULL, busyTimeoutMs=N");
            };
        }
        return options;
    }

    private static long parseMillis(String value, String url) {
        try {
            long ms = Long.parseLong(value);
            if (ms < 0) {
                throw new NumberFormatException("negative");
            }
            return ms;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("busyTimeoutMs must be a whole number of milliseconds >= 0, was '"
                    + value + "' in " + url, e);
        }
    }
}
