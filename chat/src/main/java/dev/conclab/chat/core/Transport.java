package dev.conclab.chat.core;

import dev.conclab.chat.protocol.CloseCode;

/**
 * The connection under a {@link Session}, implemented by each serving model. The core never writes to a connection
 * itself: it queues frames in the session's bounded outbox and {@linkplain #wake() wakes} the transport, which
 * drains the outbox on its own thread at the pace the client reads.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread, concurrently, and must never block: they
 * are called while the core holds a room's lock during fan-out.
 */
public interface Transport {

    /**
     * The session's outbox became non-empty, or a close is pending: drain it soon (see {@link Session#poll()},
     * {@link Session#pendingClose()} and {@link Session#drained()}). Called once per idle-to-busy transition, not
     * once per frame.
     */
    void wake();

    /**
     * Closes the connection now: sends a Close frame with {@code code} and {@code reason} if the connection can
     * still take it, then closes it, without draining what is queued. Idempotent.
     */
    void close(CloseCode code, String reason);

    /**
     * Whether the connection cannot take more bytes now because the client is not reading what was sent (the
     * transport's own buffer is over its high-water mark). The slow-consumer policy asks this when a frame finds the
     * outbox at its soft limit: only a backlogged connection is closed there; otherwise the frame is queued, up to
     * the hard cap (see {@link Session}). Any thread, never blocks; a snapshot.
     *
     * <p>The default answers {@code true}: a transport that cannot tell is closed at the soft limit, as before this
     * method existed.
     */
    default boolean backlogged() {
        return true;
    }
}
