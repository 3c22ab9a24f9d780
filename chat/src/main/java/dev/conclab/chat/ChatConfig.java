package dev.conclab.chat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a chat server is configured with: where it listens and the limits that keep one client from hurting
 * the others. Immutable; every {@code withX} returns a copy and throws {@link IllegalArgumentException} naming the
 * field and its bounds when the value is out of them.
 *
 * @param host               the address to listen on (loopback by default)
 * @param port               the port, 0 for any free one
 * @param path               the WebSocket endpoint's path, e.g. {@code /chat}
 * @param maxFrameBytes      the largest client message (frame payload, and whole message when fragmented), bytes;
 *                           larger ones close the connection with 1009
 * @param maxTextChars       the longest {@code text} of a {@code send} or {@code dm}
 * @param maxRoomsPerClient  rooms one connection may be in at once
 * @param maxRooms           rooms the server holds at once (a room lives while it has members)
 * @param historySize        messages kept per room for {@code history}
 * @param outboundLimit      the soft limit of a connection's outbound queue, in frames: a frame that finds it reached
 *                           disconnects a client that is not reading (slow consumer, 1008); the hard cap is
 *                           {@code Session.HARD_LIMIT_FACTOR} times it
 * @param messagesPerSecond  the steady per-connection rate of client messages
 * @param burst              client messages admitted at once after idleness
 * @param maxStrikes         consecutive refused messages (errors and rate refusals) before closing with 1008
 * @param idleTimeout        silence (no frame, pongs included) after which the connection is closed with 1001; a
 *                           ping is sent after half of it
 * @param drainTimeout       how long a graceful close waits for outbound queues to drain
 * @param ioThreads          the event-loop model's I/O threads
 * @param redis              the Redis server that joins several servers into one chat (scale-out, see
 *                           {@code dev.conclab.chat.redis}); empty: this server runs alone and connects to nothing
 */
public record ChatConfig(InetAddress host, int port, String path, int maxFrameBytes, int maxTextChars,
                         int maxRoomsPerClient, int maxRooms, int historySize, int outboundLimit,
                         double messagesPerSecond, int burst, int maxStrikes, Duration idleTimeout,
                         Duration drainTimeout, int ioThreads, Optional<RedisAddress> redis) {

    public ChatConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(redis, "redis");
        check("port", port, 0, 65_535);
        if (!path.startsWith("/") || path.length() > 64) {
            throw new IllegalArgumentException("path must start with '/' and have at most 64 chars, got " + path);
        }
        check("maxFrameBytes", maxFrameBytes, 64, 16 << 20);
        check("maxTextChars", maxTextChars, 1, maxFrameBytes);
        check("maxRoomsPerClient", maxRoomsPerClient, 1, 10_000);
        check("maxRooms", maxRooms, 1, 10_000_000);
        check("historySize", historySize, 0, 100_000);
        check("outboundLimit", outboundLimit, 1, 1_000_000);
        if (!(messagesPerSecond > 0) || messagesPerSecond > 1e6) {
            throw new IllegalArgumentException("messagesPerSecond must be in (0, 1e6], got " + messagesPerSecond);
        }
        check("burst", burst, 1, 1_000_000);
        check("maxStrikes", maxStrikes, 1, 1_000_000);
        checkDuration("idleTimeout", idleTimeout, Duration.ofMillis(100), Duration.ofHours(24));
        checkDuration("drainTimeout", drainTimeout, Duration.ZERO, Duration.ofMinutes(10));
        check("ioThreads", ioThreads, 1, 1024);
    }

    /**
     * Loopback, port 8080, path {@code /chat}, 16 KiB messages, 2,000-char texts, 16 rooms per client, 10,000 rooms,
     * 50 messages of history, 256 queued frames, 20 messages/s with a burst of 40, 20 strikes, 60 s idle timeout,
     * 5 s drain, one I/O thread per core, no Redis (a single node).
     */
    public static ChatConfig defaults() {
        return new ChatConfig(InetAddress.getLoopbackAddress(), 8080, "/chat", 16 << 10, 2_000, 16, 10_000, 50,
                256, 20, 40, 20, Duration.ofSeconds(60), Duration.ofSeconds(5),
                Runtime.getRuntime().availableProcessors(), Optional.empty());
    }

    public ChatConfig withHost(InetAddress host) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withPort(int port) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    /** Sets the frame limit and, when it no longer fits, lowers {@link #maxTextChars} to it. */
    public ChatConfig withMaxFrameBytes(int maxFrameBytes) {
        return new ChatConfig(host, port, path, maxFrameBytes, Math.min(maxTextChars, Math.max(1, maxFrameBytes)),
                maxRoomsPerClient, maxRooms, historySize, outboundLimit, messagesPerSecond, burst, maxStrikes,
                idleTimeout, drainTimeout, ioThreads, redis);
    }

    public ChatConfig withMaxTextChars(int maxTextChars) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withMaxRoomsPerClient(int maxRoomsPerClient) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withMaxRooms(int maxRooms) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withHistorySize(int historySize) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withOutboundLimit(int outboundLimit) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withRate(double messagesPerSecond, int burst) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withMaxStrikes(int maxStrikes) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withIdleTimeout(Duration idleTimeout) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withDrainTimeout(Duration drainTimeout) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    public ChatConfig withIoThreads(int ioThreads) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, redis);
    }

    /** Joins this server to the chat of every server using the same Redis ({@code null}: run alone). */
    public ChatConfig withRedis(RedisAddress redis) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads, Optional.ofNullable(redis));
    }

    /**
     * Where a Redis server listens. Immutable.
     *
     * @param host a host name or IP address (IPv6 in brackets when parsed from text)
     * @param port 1..65535
     */
    public record RedisAddress(String host, int port) {
        public RedisAddress {
            Objects.requireNonNull(host, "host");
            if (host.isBlank() || host.length() > 253 || !host.matches("[A-Za-z0-9.:_-]+")) {
                throw new IllegalArgumentException("redis host must be a host name or IP address, got '" + host + "'");
            }
            check("redis port", port, 1, 65_535);
        }

        /**
         * Parses {@code host:port} (e.g. {@code 127.0.0.1:6379}, {@code [::1]:6379}).
         *
         * @throws IllegalArgumentException naming the problem when {@code text} is not {@code host:port}
         */
        public static RedisAddress parse(String text) {
            Objects.requireNonNull(text, "text");
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("redis address must be host:port, got '" + text + "'");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (host.contains(":")) {
                throw new IllegalArgumentException("redis address: an IPv6 host goes in brackets, got '" + text + "'");
            }
            int port;
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("redis address: the port is not a number in '" + text + "'");
            }
            return new RedisAddress(host, port);
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private static void check(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", got " + value);
        }
    }

    private static void checkDuration(String name, Duration value, Duration min, Duration max) {
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", got " + value);
        }
    }
}
