package dev.conclab.chat;

import java.net.URI;
import java.time.Duration;

/**
 * A running chat server of some {@link ChatModel}: it speaks the protocol of {@code chat/PROTOCOL.md} at
 * {@code ws://host:port/path} until closed. Every model passes the same protocol contract tests.
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread; {@link #close} is idempotent and concurrent
 * calls all return once the first has finished.
 *
 * <p><b>Shutdown.</b> {@link #close(Duration)} stops accepting connections at once, queues a Close frame with 1001
 * (going away) behind every connection's pending messages, waits up to the deadline for the queues to drain and the
 * clients to close, then closes whatever is left and stops every thread the server started. When it returns, no
 * thread of the server is running and the port is free.
 */
public interface ChatServer extends AutoCloseable {

    /** The model serving the connections. */
    ChatModel model();

    /** The configuration it was started with ({@link ChatConfig#port()} may be 0: see {@link #port()}). */
    ChatConfig config();

    /** The port it listens on. */
    int port();

    /** {@code ws://host:port/path}. */
    default URI uri() {
        String host = config().host().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("ws://" + host + ":" + port() + config().path());
    }

    /** Counters of what the server has done so far (a snapshot). */
    ChatStats stats();

    /**
     * Stops gracefully within {@code drain}, as described above; blocks until done.
     *
     * @return whether every connection closed within the deadline (false: some were cut off)
     */
    boolean close(Duration drain);

    /** {@link #close(Duration)} with the configured {@link ChatConfig#drainTimeout()}. */
    @Override
    default void close() {
        close(config().drainTimeout());
    }

    /** The error every model throws when it cannot start on {@code config}'s address: it names the address and why. */
    static IllegalStateException cannotStart(ChatConfig config, Exception cause) {
        return new IllegalStateException("cannot start the chat server on " + config.host().getHostAddress() + ":"
                + config.port() + ": " + cause, cause);
    }
}
