package dev.conclab.chat.core;

import dev.conclab.chat.protocol.CloseCode;
import dev.conclab.toolkit.ratelimit.RateLimiter;

import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client connection as the core sees it: its name, its rooms, its rate limiter and its bounded {@link Outbox}.
 * Created by {@link ChatHub#open}; the transport feeds it with {@link #onText} and {@link #onClosed} and drains it
 * with {@link #poll}, {@link #pendingClose} and {@link #drained}.
 *
 * <p><b>Threads.</b> A transport calls {@link #onText} and {@link #onClosed} for one session from one thread at a
 * time, each call happening-before the next (Netty: the channel's event loop; one virtual thread per connection
 * otherwise); the session's name, rooms and strikes are confined to those calls. {@link #deliver} may be called by
 * any thread at any time: it is the fan-out path of other connections and never blocks.
 *
 * <p><b>Slow-consumer policy.</b> The outbox has a soft limit ({@code outboundLimit}) and a hard cap
 * ({@link #HARD_LIMIT_FACTOR} times it). A frame that finds the soft limit reached closes the session with 1008
 * (policy violation) only if the transport reports the connection {@linkplain Transport#backlogged() backlogged}
 * (the client is not reading); otherwise it is queued, so a burst larger than the soft limit that arrives before the
 * transport has drained (one event-loop iteration, say) does not cut off a client that reads. A frame that finds the
 * hard cap reached closes the session with 1008 regardless, so memory per connection stays bounded. Either way the
 * frame is dropped, the session is closed at once without draining, and it leaves its rooms; the sender and the other
 * members are never delayed.
 *
 * <p><b>Life cycle.</b> OPEN, then DRAINING (a graceful close is pending behind the queued frames; new frames are
 * dropped) or CLOSED (closed at once), then CLOSED. Only the first close counts.
 */
public final class Session {

    /** The hard cap of a session's outbox is this many times its soft limit. */
    public static final int HARD_LIMIT_FACTOR = 16;

    private static final int OPEN = 0;
    private static final int DRAINING = 1;
    private static final int CLOSED = 2;

    private final ChatHub hub;
    private final long id;
    private final Transport transport;
    private final Outbox outbox;
    private final int softLimit;
    private final RateLimiter limiter;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private volatile String name;
    private volatile CloseCode pendingClose;
    private volatile String pendingReason;
    // Confined to the connection's inbound calls (see the class comment).
    final Set<String> rooms = new LinkedHashSet<>();
    int strikes;

    Session(ChatHub hub, long id, String name, Transport transport, int outboundLimit, RateLimiter limiter) {
        this.hub = hub;
        this.id = id;
        this.name = name;
        this.transport = Objects.requireNonNull(transport, "transport");
        this.softLimit = outboundLimit;
        this.outbox = new Outbox(Math.multiplyExact(outboundLimit, HARD_LIMIT_FACTOR));
        this.limiter = limiter;
    }

    /** A number unique to this session on its hub. */
    public long id() {
        return id;
    }

    /** The client's current name (it may change with {@code hello} while in no room). */
    public String name() {
        return name;
    }

    void rename(String name) {
        this.name = name;
    }

    RateLimiter limiter() {
        return limiter;
    }

    /** Whether frames are still accepted for this session. */
    public boolean isOpen() {
        return state.get() == OPEN;
    }

    /** Frames queued now (a snapshot). */
    public int queued() {
        return outbox.size();
    }

    /** One client text frame: parsed, rate-limited, validated and acted on; never throws. Transport thread only. */
    public void onText(String text) {
        hub.handle(this, text);
    }

    /** The connection is gone (whoever closed it): leave every room, free the name. Transport thread only. */
    public void onClosed() {
        state.set(CLOSED);
        hub.closed(this);
        outbox.clear();
    }

    /**
     * Queues {@code frame} for the client; any thread; never blocks. At the soft limit a backlogged connection, at
     * the hard cap any, is closed with 1008 (see the slow-consumer policy).
     *
     * @return whether the frame was queued
     */
    public boolean deliver(String frame) {
        if (state.get() != OPEN) {
            return false;
        }
        if (outbox.size() >= softLimit && transport.backlogged()) {
            slowConsumer(softLimit + " frames queued and the client is not reading");
            return false;
        }
        switch (outbox.offer(frame)) {
            case QUEUED -> {
                return true;
            }
            case WAKE -> {
                transport.wake();
                return true;
            }
            case FULL -> {
                slowConsumer(outbox.capacity() + " frames queued");
                return false;
            }
        }
        throw new AssertionError();
    }

    private void slowConsumer(String why) {
        if (closeNow(CloseCode.POLICY_VIOLATION, "slow consumer: " + why)) {
            hub.countSlowConsumer();
        }
    }

    /**
     * Closes the connection at once with {@code code}, dropping what is queued; any thread.
     *
     * @return whether this call closed it (false: it was closed already)
     */
    public boolean closeNow(CloseCode code, String reason) {
        int s = state.get();
        while (s != CLOSED) {
            if (state.compareAndSet(s, CLOSED)) {
                transport.close(code, reason);
                return true;
            }
            s = state.get();
        }
        return false;
    }

    /**
     * Closes the connection with {@code code} once the frames queued now are written (graceful close); frames
     * offered later are dropped. Any thread.
     */
    public void closeAfterDrain(CloseCode code, String reason) {
        pendingReason = reason;
        pendingClose = code;
        if (state.compareAndSet(OPEN, DRAINING) && outbox.schedule()) {
            transport.wake();
        }
    }

    /** The next frame to write, or {@code null}. Transport's drain only. */
    public String poll() {
        return outbox.poll();
    }

    /** The close to send once the outbox is empty, or {@code null}. Transport's drain only. */
    public CloseCode pendingClose() {
        return state.get() == DRAINING ? pendingClose : null;
    }

    /** The reason of {@link #pendingClose()}. */
    public String pendingReason() {
        return pendingReason;
    }

    /**
     * The transport's drain found the outbox empty and stops: {@code true} if it must go on (a frame arrived
     * meanwhile). Transport's drain only.
     */
    public boolean drained() {
        return outbox.drained();
    }

    @Override
    public String toString() {
        return "Session[" + id + " " + name + ", rooms=" + rooms.size() + ", queued=" + outbox.size() + "]";
    }
}
