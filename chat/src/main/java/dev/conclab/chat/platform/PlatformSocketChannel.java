package dev.conclab.chat.platform;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.oio.OioSocketChannel;

import java.io.IOException;
import java.net.Socket;

/**
 * One connection of the platform model: Netty's OIO socket channel that also remembers when its thread entered a
 * blocking write, so that another thread can tell a write stuck on a client that stopped reading and
 * {@linkplain #cutOff() shut the socket's output} under it (the only way to free a platform thread blocked in
 * {@code java.net.Socket} I/O: interrupting it does not).
 *
 * <p><b>Thread safety.</b> Netty calls {@link #doWrite} on the connection's own thread; {@link #writeBlockedNanos}
 * and {@link #cutOff} may be called from any thread.
 */
@SuppressWarnings("deprecation") // OIO: see PlatformChatServer
final class PlatformSocketChannel extends OioSocketChannel {

    private final Socket socket;
    /** {@code System.nanoTime()} when the current write began, or 0 when no write is in progress. */
    private volatile long writeSince;

    PlatformSocketChannel(Channel parent, Socket socket) {
        super(parent, socket);
        this.socket = socket;
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        writeSince = System.nanoTime() | 1; // never 0 while writing
        try {
            super.doWrite(in);
        } finally {
            writeSince = 0;
        }
    }

    /** How long the current write has been blocked, in nanoseconds (0 when not writing). */
    long writeBlockedNanos(long now) {
        long since = writeSince;
        return since == 0 ? 0 : now - since;
    }

    /**
     * Shuts the socket's output down now: a write blocked on it fails, and Netty then closes the channel on its own
     * thread, firing {@code channelInactive} (so the session leaves its rooms). Closing the socket instead would
     * make the channel inactive before Netty closes it, and the handler would never hear of the close.
     */
    void cutOff() {
        try {
            socket.shutdownOutput();
        } catch (IOException ignored) {
            // already shut or closed: the channel is going away anyway
        }
    }
}
