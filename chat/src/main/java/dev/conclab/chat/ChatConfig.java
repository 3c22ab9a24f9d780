package dev.conclab.chat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;

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
 * @param outboundLimit      frames queued for one connection at most; one more disconnects it (slow consumer, 1008)
 * @param messagesPerSecond  the steady per-connection rate of client messages
 * @param burst              client messages admitted at once after idleness
 * @param maxStrikes         consecutive refused messages (errors and rate refusals) before closing with 1008
 * @param idleTimeout        silence (no frame, pongs included) after which the connection is closed with 1001; a
 *                           ping is sent after half of it
 * @param drainTimeout       how long a graceful close waits for outbound queues to drain
 * @param ioThreads          the event-loop model's I/O threads
 */
public record ChatConfig(InetAddress host, int port, String path, int maxFrameBytes, int maxTextChars,
                         int maxRoomsPerClient, int maxRooms, int historySize, int outboundLimit,
                         double messagesPerSecond, int burst, int maxStrikes, Duration idleTimeout,
                         Duration drainTimeout, int ioThreads) {

    public ChatConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
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
     * 5 s drain, one I/O thread per core.
     */
    public static ChatConfig defaults() {
        return new ChatConfig(InetAddress.getLoopbackAddress(), 8080, "/chat", 16 << 10, 2_000, 16, 10_000, 50,
                256, 20, 40, 20, Duration.ofSeconds(60), Duration.ofSeconds(5),
                Runtime.getRuntime().availableProcessors());
    }

    public ChatConfig withHost(InetAddress host) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withPort(int port) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    /** Sets the frame limit and, when it no longer fits, lowers {@link #maxTextChars} to it. */
    public ChatConfig withMaxFrameBytes(int maxFrameBytes) {
        return new ChatConfig(host, port, path, maxFrameBytes, Math.min(maxTextChars, Math.max(1, maxFrameBytes)),
                maxRoomsPerClient, maxRooms, historySize, outboundLimit, messagesPerSecond, burst, maxStrikes,
                idleTimeout, drainTimeout, ioThreads);
    }

    public ChatConfig withMaxTextChars(int maxTextChars) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withMaxRoomsPerClient(int maxRoomsPerClient) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withMaxRooms(int maxRooms) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withHistorySize(int historySize) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withOutboundLimit(int outboundLimit) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withRate(double messagesPerSecond, int burst) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withMaxStrikes(int maxStrikes) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withIdleTimeout(Duration idleTimeout) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withDrainTimeout(Duration drainTimeout) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
    }

    public ChatConfig withIoThreads(int ioThreads) {
        return new ChatConfig(host, port, path, maxFrameBytes, maxTextChars, maxRoomsPerClient, maxRooms,
                historySize, outboundLimit, messagesPerSecond, burst, maxStrikes, idleTimeout, drainTimeout,
                ioThreads);
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
