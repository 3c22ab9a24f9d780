package dev.conclab.jobs.broker.redis;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Where a {@link RedisBroker} keeps its data: the server, the database number, and the key prefix that separates
 * several task systems (or several tests, or several lab runs) sharing one server. Immutable, hence thread-safe.
 *
 * @param host           the server's host name or address
 * @param port           the server's TCP port, 1..65535
 * @param database       the logical database, {@code >= 0}
 * @param prefix         prepended to every key the broker touches; non-empty, no whitespace
 * @param maxConnections the size of the connection pool; each reserve that waits holds one connection for the wait
 * @param timeout        connect and read timeout of one round trip
 */
public record RedisBrokerConfig(String host, int port, int database, String prefix, int maxConnections,
                                Duration timeout) {

    /** The scheme of broker URLs: {@code redis://host:port[/db][?prefix=...]}. */
    public static final String SCHEME = "redis";
    public static final String DEFAULT_PREFIX = "conclab:jobs:";
    public static final int DEFAULT_PORT = 6379;
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    public RedisBrokerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(timeout, "timeout");
        if (host.isBlank()) {
            throw new IllegalArgumentException("the Redis host is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the Redis port must be 1..65535, was " + port);
        }
        if (database < 0) {
            throw new IllegalArgumentException("the Redis database must be >= 0, was " + database);
        }
        if (prefix.isEmpty() || prefix.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("the key prefix must be non-empty and without whitespace, was '"
                    + prefix + "'");
        }
        if (maxConnections < 2) {
            throw new IllegalArgumentException("maxConnections must be >= 2 (one waiting reserve and one more), was "
                    + maxConnections);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
    }

    /** A server with the default database, prefix, pool size and timeout. */
    public static RedisBrokerConfig of(String host, int port) {
        return new RedisBrokerConfig(host, port, 0, DEFAULT_PREFIX, DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT);
    }

    /** This configuration with another key prefix. */
    public RedisBrokerConfig withPrefix(String newPrefix) {
        return new RedisBrokerConfig(host, port, database, newPrefix, maxConnections, timeout);
    }

    /**
     * Parses {@code redis://host[:port][/db][?prefix=...]} (port 6379, database 0 and prefix {@value #DEFAULT_PREFIX}
     * when left out).
     *
     * @throws IllegalArgumentException naming what is wrong with the URL
     */
    public static RedisBrokerConfig fromUrl(String url) {
        Objects.requireNonNull(url, "url");
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid Redis broker URL '" + url + "': " + e.getMessage(), e);
        }
        if (!SCHEME.equals(uri.getScheme())) {
            throw new IllegalArgumentException("a Redis broker URL starts with redis://, was '" + url + "'");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("the Redis broker URL '" + url + "' has no host"
                    + " (expected redis://host:port[/db][?prefix=...])");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException("credentials in the Redis broker URL are not supported: '" + url + "'");
        }
        int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
        int database = 0;
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the path of a Redis broker URL is the database number, was '"
                        + path.substring(1) + "' in '" + url + "'", e);
            }
        }
        String prefix = DEFAULT_PREFIX;
        if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
            for (String pair : uri.getRawQuery().split("&")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (!name.equals("prefix")) {
                    throw new IllegalArgumentException("unknown parameter '" + name + "' in the Redis broker URL '"
                            + url + "' (known: prefix)");
                }
                prefix = value;
            }
        }
        return new RedisBrokerConfig(uri.getHost(), port, database, prefix, DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT);
    }

    /** The URL this configuration parses from (pool size and timeout are not part of it). */
    public String toUrl() {
        return SCHEME + "://" + host + ":" + port + "/" + database + "?prefix="
                + java.net.URLEncoder.encode(prefix, StandardCharsets.UTF_8);
    }
}
