package dev.conclab.chat.core;

/**
 * The fan-out path between nodes: every {@link RoomEvent} published on any node reaches the {@link Listener} of
 * every node (the publishing one included), which delivers it to its local members. {@link LocalBroadcaster} is the
 * single-node bus; a pub/sub bus (Redis) makes several servers one chat.
 *
 * <p><b>Ordering.</b> Events of one room published from one thread reach every listener in the order published.
 * A local bus delivers synchronously, on the publishing thread; a remote bus delivers on its own thread.
 *
 * <p><b>Thread safety.</b> {@link #publish} may be called from any thread at once and must not block for long: the
 * core calls it while holding the room's lock (a remote bus hands the event to its client and returns).
 */
public interface Broadcaster extends AutoCloseable {

    /** Receives the events of every node; called by the bus, never concurrently for one room. */
    @FunctionalInterface
    interface Listener {
        void onEvent(RoomEvent event);
    }

    /**
     * Starts delivering to {@code listener}; called once, before the first {@link #publish}.
     *
     * @throws IllegalStateException if already started
     */
    void start(Listener listener);

    /** Sends {@code event} to every node's listener. */
    void publish(RoomEvent event);

    /** Stops delivering and releases the bus's resources (threads, connections). Idempotent. */
    @Override
    void close();
}
