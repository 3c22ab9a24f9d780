package dev.conclab.chat.core;

import java.util.Objects;

/**
 * The single-node {@link Broadcaster}: {@link #publish} calls the listener on the publishing thread, so events are
 * delivered in publish order and before {@code publish} returns. Thread-safe; starts no thread.
 */
public final class LocalBroadcaster implements Broadcaster {

    private volatile Listener listener;

    @Override
    public synchronized void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        if (this.listener != null) {
            throw new IllegalStateException("already started");
        }
        this.listener = listener;
    }

    @Override
    public void publish(RoomEvent event) {
        Listener l = listener;
        if (l == null) {
            throw new IllegalStateException("publish before start");
        }
        l.onEvent(event);
    }

    @Override
    public void close() {
        // nothing to release
    }
}
