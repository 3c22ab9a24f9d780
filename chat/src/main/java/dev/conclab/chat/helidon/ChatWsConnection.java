package dev.conclab.chat.helidon;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.core.Session;
import dev.conclab.chat.core.Transport;
import dev.conclab.chat.protocol.CloseCode;
import io.helidon.common.buffers.BufferData;
import io.helidon.webserver.ConnectionContext;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection of the virtual-thread model, with three virtual threads, all running plain blocking code:
 * <ul>
 *   <li>the <b>reader</b>, Helidon's own thread for the connection: it reads frames and calls this listener, so a
 *       session's {@link Session#onText} calls are serial, as {@link Session} requires;</li>
 *   <li>the <b>writer</b>: parks until {@link #wake()}, then drains the session's outbox with blocking sends (so it
 *       writes at the pace the client reads), sends the idle ping and the Close frames;</li>
 *   <li>the <b>watcher</b>: joins the reader and then calls {@link Session#onClosed()} exactly once, after every
 *       {@code onText} (the join orders them). Helidon calls {@code onClose} only when a Close frame arrives, not when
 *       the socket dies or the server cuts it, so the reader thread's end is the one reliable signal.</li>
 * </ul>
 *
 * <p><b>Thread safety.</b> {@link #wake}, {@link #close} and {@link #backlogged} may be called from any thread and
 * never block: they set or read a flag and unpark the writer (and interrupt the watcher, which cuts the socket if the
 * connection is not gone within the close grace: a client that does not read would never take the Close frame). Data
 * frames and the Close frame are sent under one lock, so no data frame follows the Close frame.
 *
 * <p><b>Backlog.</b> The connection is {@linkplain #backlogged() backlogged} while the writer has been blocked in one
 * send for {@link #BACKLOGGED_AFTER_NANOS}: the kernel's send buffer is full, so the client is not reading. Only then
 * does the outbox's soft limit close it (see {@link Session}); a burst to a reading client is queued.
 *
 * <p><b>Limits enforced here</b> (Helidon's WebSocket does not): binary messages (1003), a fragmented message whose
 * parts add up to more than the size limit (1009; a single frame over it is refused by Helidon itself with 1009),
 * text that did not decode as UTF-8 (1007; Helidon decodes with replacement, so a U+FFFD in a text frame is taken as
 * the sign of invalid UTF-8), the idle timeout with ping (1001).
 */
final class ChatWsConnection implements WsListener, Transport {

    /** How long a client gets to answer our Close frame before the connection is cut. */
    static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * A send blocked this long means the kernel's send buffer is full: the client is not reading. A send to a client
     * that reads returns in microseconds; the margin covers a writer descheduled on a busy machine.
     */
    static final long BACKLOGGED_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private record PendingClose(CloseCode code, int wireCode, String reason, long at) {
    }

    private final HelidonChatServer server;
    private final ChatHub hub;
    private final long maxMessageBytes;
    private final long pingAfterNanos;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final AtomicReference<PendingClose> pendingClose = new AtomicReference<>();
    private volatile WsSession ws;
    private volatile Session session;
    private volatile Thread reader;
    private volatile Thread writer;
    private volatile Thread watcher;
    private volatile boolean woken;
    /** When the send in progress started (System.nanoTime, never 0), or 0 when no send is in progress. */
    private volatile long sendingSince;
    private volatile boolean ended;
    private volatile long lastSeenNanos = System.nanoTime();
    // confined to the writer
    private boolean closeSent;
    private long pingSentAt;
    private boolean pingSent;
    // confined to the reader
    private StringBuilder fragments;
    private long fragmentBytes;

    ChatWsConnection(HelidonChatServer server, ChatHub hub, ChatConfig config) {
        this.server = server;
        this.hub = hub;
        this.maxMessageBytes = config.maxFrameBytes();
        this.pingAfterNanos = Math.max(1, config.idleTimeout().toNanos() / 2);
    }

    // ---- inbound: Helidon's connection thread ----

    /**
     * Counts the connection from the upgrade on (before the 101 response, so a close that starts once the client
     * has its response waits for it), or refuses the upgrade once the server is shutting down.
     */
    @Override
    public java.util.Optional<io.helidon.http.Headers> onHttpUpgrade(io.helidon.http.HttpPrologue prologue,
                                                                      io.helidon.http.Headers headers) {
        if (!server.register(this)) {
            throw new io.helidon.websocket.WsUpgradeException("the chat server is shutting down");
        }
        return java.util.Optional.empty();
    }

    @Override
    public void onOpen(WsSession ws) {
        this.ws = ws;
        this.reader = Thread.currentThread();
        // a session opened during shutdown is closed with 1001 by the hub right after its welcome
        writer = Thread.ofVirtual().name("chat-helidon-writer").unstarted(this::writeLoop);
        watcher = Thread.ofVirtual().name("chat-helidon-watcher").unstarted(this::watch);
        writer.start();
        watcher.start(); // before hub.open: whatever happens next, the reader's end closes the session
        String name = ws.prologue().query().first("name").orElse(null);
        session = hub.open(this, name);
        wake();
    }

    @Override
    public void onMessage(WsSession ws, String text, boolean last) {
        lastSeenNanos = System.nanoTime();
        Session s = session;
        if (s == null || pendingClose.get() != null) {
            return;
        }
        if (text.indexOf('\uFFFD') >= 0) {
            // Helidon decoded invalid UTF-8 with replacement characters (it does not validate)
            s.closeNow(CloseCode.INVALID_PAYLOAD, "invalid UTF-8");
            return;
        }
        if (last && fragments == null) {
            s.onText(text);
            return;
        }
        if (fragments == null) {
            fragments = new StringBuilder();
            fragmentBytes = 0;
        }
        // Helidon bounds each frame; the parts of one message are bounded here (UTF-8 bytes, as on the wire)
        fragmentBytes += utf8Length(text);
        if (fragmentBytes > maxMessageBytes) {
            fragments = null;
            s.closeNow(CloseCode.MESSAGE_TOO_BIG, "message over the size limit");
            return;
        }
        fragments.append(text);
        if (last) {
            String whole = fragments.toString();
            fragments = null;
            s.onText(whole);
        }
    }

    @Override
    public void onMessage(WsSession ws, BufferData buffer, boolean last) {
        lastSeenNanos = System.nanoTime();
        Session s = session;
        if (s != null) {
            s.closeNow(CloseCode.UNSUPPORTED_DATA, "binary messages are not accepted");
        }
    }

    @Override
    public void onPing(WsSession ws, BufferData buffer) {
        lastSeenNanos = System.nanoTime();
        sendLock.lock();
        try {
            if (!closeSent) {
                ws.pong(buffer);
            }
        } finally {
            sendLock.unlock();
        }
    }

    @Override
    public void onPong(WsSession ws, BufferData buffer) {
        lastSeenNanos = System.nanoTime(); // the client is alive
    }

    /** The client's Close frame (or a protocol error Helidon found): answer with the client's own code. */
    @Override
    public void onClose(WsSession ws, int status, String reason) {
        int echo = isSendable(status) ? status : CloseCode.NORMAL.code();
        PendingClose close = new PendingClose(CloseCode.NORMAL, echo, reason == null ? "" : reason,
                System.nanoTime());
        if (pendingClose.compareAndSet(null, close)) {
            Session s = session;
            if (s != null) {
                s.closeNow(CloseCode.NORMAL, "client closed"); // stops deliveries; close() below is then a no-op
            }
            interruptWatcher();
            sendClose(close); // on the reader: Helidon ends the connection when this returns
        }
    }

    @Override
    public void onError(WsSession ws, Throwable t) {
        // a bug while handling a message; Helidon closes this connection with 1011 and the others go on
        System.getLogger(ChatWsConnection.class.getName()).log(System.Logger.Level.WARNING,
                "chat connection failed", t);
    }

    // ---- Transport: any thread, never blocks ----

    @Override
    public void wake() {
        woken = true;
        Thread w = writer;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    @Override
    public void close(CloseCode code, String reason) {
        if (pendingClose.compareAndSet(null, new PendingClose(code, code.code(), reason, System.nanoTime()))) {
            // no cut here even when the writer is inside a send (usually a short one): the watcher cuts the connection
            // once the close grace has passed, so a client that stopped reading is gone within that second
            Thread w = writer;
            if (w != null) {
                LockSupport.unpark(w);
            } else {
                cut();
            }
            interruptWatcher();
        }
    }

    /** The writer has been blocked in one send for {@link #BACKLOGGED_AFTER_NANOS} or more. */
    @Override
    public boolean backlogged() {
        long since = sendingSince;
        return since != 0 && System.nanoTime() - since >= BACKLOGGED_AFTER_NANOS;
    }

    private void interruptWatcher() {
        Thread w = watcher;
        if (w != null) {
            w.interrupt(); // it waits for the reader with the close's deadline from now on
        }
    }

    // ---- the writer ----

    private void writeLoop() {
        try {
            while (!ended) {
                PendingClose close = pendingClose.get();
                if (close != null) {
                    closeGracefully(close);
                    return;
                }
                Session s = session;
                if (s != null && woken) {
                    woken = false;
                    drain(s);
                    continue;
                }
                LockSupport.parkNanos(this, checkIdle());
            }
        } catch (RuntimeException e) {
            cut(); // the socket failed under a send: the reader ends too
        }
    }

    private void drain(Session s) {
        while (pendingClose.get() == null) {
            String frame;
            while ((frame = s.poll()) != null) {
                if (!send(frame)) {
                    return;
                }
            }
            CloseCode pending = s.pendingClose();
            if (pending != null) {
                close(pending, s.pendingReason());
                return;
            }
            if (!s.drained()) {
                return;
            }
        }
    }

    private boolean send(String frame) {
        sendLock.lock();
        try {
            sendingSince = System.nanoTime() | 1;
            if (closeSent) {
                return false;
            }
            ws.send(frame, true); // even when a close is pending: this frame was queued before it (see flushQueued)
            return true;
        } finally {
            sendingSince = 0;
            sendLock.unlock();
        }
    }

    /**
     * Pings after half the idle timeout of silence; closes with 1001 when the other half passes without a frame.
     *
     * @return nanoseconds until the next check
     */
    private long checkIdle() {
        long now = System.nanoTime();
        long seen = lastSeenNanos;
        if (pingSent && seen - pingSentAt > 0) {
            pingSent = false; // something arrived since the ping
        }
        if (!pingSent) {
            long due = seen + pingAfterNanos;
            if (now - due < 0) {
                return due - now;
            }
            sendLock.lock();
            try {
                sendingSince = System.nanoTime() | 1;
                if (!closeSent && pendingClose.get() == null) {
                    ws.ping(BufferData.create(new byte[]{'p'}));
                }
            } finally {
                sendingSince = 0;
                sendLock.unlock();
            }
            pingSent = true;
            pingSentAt = now;
            return pingAfterNanos;
        }
        long due = pingSentAt + pingAfterNanos;
        if (now - due < 0) {
            return due - now;
        }
        Session s = session;
        if (s != null) {
            s.closeNow(CloseCode.GOING_AWAY, "idle timeout");
        } else {
            close(CloseCode.GOING_AWAY, "idle timeout");
        }
        return 1;
    }

    /** Our Close frame, then the client's answer ends the reader; a client that does not answer is cut off. */
    private void closeGracefully(PendingClose close) {
        if (close.code() != CloseCode.NORMAL) { // NORMAL: the reader already answered the client's Close
            flushQueued();
            sendClose(close);
        }
        long deadline = close.at() + CLOSE_GRACE_NANOS;
        long left;
        while (!ended && (left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(this, left);
        }
        if (!ended) {
            cut();
        }
    }

    /**
     * Writes the frames queued before a close (e.g. the errors before a strikes close), as the event-loop model does
     * with its earlier drain task; a close while the writer was inside a send has cut the socket instead.
     */
    private void flushQueued() {
        Session s = session;
        if (s == null) {
            return;
        }
        String frame;
        while ((frame = s.poll()) != null) {
            sendLock.lock();
            try {
                sendingSince = System.nanoTime() | 1;
                if (closeSent) {
                    return;
                }
                ws.send(frame, true);
            } finally {
                sendingSince = 0;
                sendLock.unlock();
            }
        }
    }

    private void sendClose(PendingClose close) {
        try {
            if (!sendLock.tryLock(CLOSE_GRACE_NANOS, TimeUnit.NANOSECONDS)) {
                cut(); // a send is stuck on a client that does not read
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cut();
            return;
        }
        try {
            if (closeSent) {
                return;
            }
            closeSent = true;
            sendingSince = System.nanoTime() | 1;
            ws.close(close.wireCode(), close.reason());
        } catch (RuntimeException e) {
            cut();
        } finally {
            sendingSince = 0;
            sendLock.unlock();
        }
    }

    // ---- the watcher ----

    /**
     * Waits for the reader to end, then closes the session. Once a close is pending (it interrupts this thread), the
     * reader gets the close grace to end (our queued frames and Close frame out, the client's answer in); then the
     * connection is cut, so a client that stopped reading cannot hold it.
     */
    private void watch() {
        while (true) {
            try {
                PendingClose close = pendingClose.get();
                if (close == null) {
                    reader.join();
                } else {
                    long left = close.at() + CLOSE_GRACE_NANOS - System.nanoTime();
                    if (left > 0) {
                        reader.join(java.time.Duration.ofNanos(left));
                    }
                    if (reader.isAlive()) {
                        cut();
                        reader.join();
                    }
                }
                break;
            } catch (InterruptedException e) {
                // a close was requested: wait with its deadline
            }
        }
        try {
            Session s = session;
            if (s != null) {
                s.onClosed();
            }
        } finally {
            ended = true;
            Thread w = writer;
            LockSupport.unpark(w);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (w.isAlive() && deadline - System.nanoTime() > 0) {
                try {
                    w.join(java.time.Duration.ofNanos(deadline - System.nanoTime())); // a blocked send has failed
                } catch (InterruptedException e) {
                    // a late close request: nothing left to close
                }
            }
            server.unregister(this); // last: the server's close waits for this
        }
    }

    // ---- shared ----

    /** Closes the TCP connection now (no Close frame); the reader then fails its read and ends. Never blocks. */
    void cut() {
        WsSession s = ws;
        if (s == null) {
            server.unregister(this); // upgraded but never opened: no thread of ours to wait for
            return;
        }
        if (s != null && s.socketContext() instanceof ConnectionContext ctx) {
            try {
                ctx.serverSocket().close();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
    }

    /** Whether the reader has ended and the session has been closed. */
    boolean ended() {
        return ended;
    }

    private static boolean isSendable(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    private static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
