package dev.conclab.chat.helidon;

import io.helidon.http.Header;
import io.helidon.webserver.websocket.WsUpgrader;

import java.lang.reflect.Field;

/**
 * Works around a race in Helidon 4.5.0's WebSocket upgrade (helidon-io/helidon#12392, fixed upstream by #12396 in a
 * 4.x release this build cannot resolve): {@code WsUpgrader} checks every upgrade request against one static
 * {@code Connection: Upgrade} header whose value list is built lazily on first read. Two handshakes reading it for
 * the first time at once can see the list while it is being filled; one fails with a
 * {@code ConcurrentModificationException} and the client gets 500 instead of 101. This class reads the header once
 * before a server accepts connections, so the list is complete before any connection thread starts (thread start
 * orders the write before their reads) and is never written again.
 *
 * <p>Thread-safe and idempotent. If the constant cannot be reached (another Helidon version), it logs a warning
 * once and does nothing.
 */
final class UpgradeHeaderWorkaround {

    private static volatile boolean warned;

    private UpgradeHeaderWorkaround() {
    }

    /** Builds the shared header's value list now, before any handshake can read it. */
    static void materialize() {
        try {
            connectionUpgrade().allValues();
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                System.getLogger(UpgradeHeaderWorkaround.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot pre-build Helidon's shared Connection: Upgrade header; concurrent first"
                                + " handshakes may fail with 500 (helidon-io/helidon#12392): " + e);
            }
        }
    }

    /** {@code WsUpgrader.CONNECTION_UPGRADE}, the shared header of the race. */
    static Header connectionUpgrade() throws ReflectiveOperationException {
        Field f = WsUpgrader.class.getDeclaredField("CONNECTION_UPGRADE");
        f.setAccessible(true);
        return (Header) f.get(null);
    }
}
