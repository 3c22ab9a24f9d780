package dev.conclab.toolkit.channel;

/**
 * Thrown by a send on a {@link BoundedChannel} that has been closed, including a send that was waiting for space
 * when the channel was closed. The item was not added.
 */
public final class ChannelClosedException extends IllegalStateException {

    public ChannelClosedException(String message) {
        super(message);
    }
}
