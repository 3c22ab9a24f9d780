package dev.conclab.chat.netty;

import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.core.Session;
import dev.conclab.chat.core.Transport;
import dev.conclab.chat.protocol.CloseCode;
import dev.conclab.chat.web.WebPage;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * One connection of the event-loop model: turns WebSocket frames into {@link Session} calls and drains the
 * session's outbox into the channel as fast as the client reads.
 *
 * <p><b>Threads.</b> Every method runs on the channel's event loop, except {@link #wake} and {@link #close}, which
 * any thread may call: they only submit a task to that loop. So the session's inbound calls are serial, as
 * {@link Session} requires, and no lock is taken here.
 *
 * <p><b>Backpressure.</b> The drain writes while {@link Channel#isWritable()} (Netty's outbound buffer under its high
 * water mark), flushes, and if the channel is still unwritable stops and resumes on
 * {@link #channelWritabilityChanged}; meanwhile frames wait in the bounded outbox. {@link #backlogged()} reports that
 * wait (flushed bytes the kernel would not take: the client is not reading), not a drain's own unflushed batch, so
 * the session's slow-consumer policy closes a connection at the outbox's soft limit only when the client is not
 * reading (a burst that outruns one drain is queued, up to the hard cap). So what one connection holds is bounded by the outbox's hard cap plus the water mark,
 * and no thread ever waits for a client.
 *
 * <p>Public so that the experiment-only platform model ({@code dev.conclab.chat.platform}) runs the same handler on
 * Netty's thread-per-channel (OIO) transport, where "the channel's event loop" is the connection's own thread.
 */
public final class ChatChannelHandler extends ChannelInboundHandlerAdapter implements Transport {

    /** How long a client gets to answer our Close frame before the TCP connection is closed anyway. */
    static final long CLOSE_GRACE_MILLIS = 1_000;
    /**
     * The same after a protocol violation, while the client may still be sending what was refused (up to what its
     * socket buffers held): its bytes are read and discarded meanwhile, so this bounds time, not memory.
     */
    static final long VIOLATION_GRACE_MILLIS = 5_000;

    private final ChatHub hub;
    private final String pagePath;
    private final Predicate<Channel> writeBlocked;
    private final BooleanSupplier cutOff;
    /** The drain flushed and the channel stayed over its high-water mark: it waits for the client to read. */
    private volatile boolean waitingForClient;
    private Channel channel;
    private volatile Session session; // volatile: sessionClosed() reads it from other threads
    private boolean pingSent;
    private boolean closing;

    /**
     * @param writeBlocked whether the channel's own thread is stuck in a write to a client that is not reading: only
     *                     a transport that writes with blocking I/O (OIO) can tell; an event loop never blocks in a
     *                     write and passes {@code c -> false} (asked from any thread; must not block)
     * @param cutOff       whether the server's shutdown deadline has passed (see {@link ChatPipeline#cutOff()})
     */
    public ChatChannelHandler(ChatHub hub, String pagePath, Predicate<Channel> writeBlocked, BooleanSupplier cutOff) {
        this.hub = hub;
        this.pagePath = pagePath;
        this.writeBlocked = writeBlocked;
        this.cutOff = cutOff;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hs) {
            List<String> names = new QueryStringDecoder(hs.requestUri()).parameters().get("name");
            session = hub.open(this, names == null || names.isEmpty() ? null : names.getFirst());
        } else if (evt instanceof ProtocolViolations.Violation v) {
            closeOnLoop(v.code(), v.reason(), true);
        } else if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
            if (session == null) {
                ctx.close(); // idle before the handshake finished
            } else if (pingSent) {
                closeOnLoop(CloseCode.GOING_AWAY, "idle timeout");
            } else {
                pingSent = true;
                ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[]{'p'})));
            }
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        pingSent = false; // any frame, a pong included, proves the client alive
        try {
            switch (msg) {
                case TextWebSocketFrame text -> {
                    if (session != null && !closing) {
                        session.onText(text.text());
                    }
                }
                case BinaryWebSocketFrame ignored ->
                        closeOnLoop(CloseCode.UNSUPPORTED_DATA, "binary messages are not accepted");
                case WebSocketFrame ignored -> {
                    // pongs (pings and closes are answered by the protocol handler)
                }
                case FullHttpRequest request -> servePage(ctx, request);
                default -> {
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** A plain HTTP request (not the WebSocket upgrade): the browser page, or 404/405 as {@link WebPage} says. */
    private void servePage(ChannelHandlerContext ctx, FullHttpRequest request) {
        WebPage.Response page = WebPage.of(pagePath).respond(request.method().name(), request.uri());
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(),
                HttpResponseStatus.valueOf(page.status()), Unpooled.wrappedBuffer(page.body()));
        page.headers().forEach(response.headers()::set);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, page.body().length);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            waitingForClient = false;
            drain();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (session != null) {
            session.onClosed();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        switch (cause) {
            case TooLongFrameException ignored -> // a fragmented message over the limit (the aggregator)
                    closeOnLoop(CloseCode.MESSAGE_TOO_BIG, "message over the size limit", true);
            default -> {
                if (session == null) {
                    ctx.close();
                } else {
                    closeOnLoop(CloseCode.INTERNAL_ERROR, "internal error");
                }
            }
        }
    }

    /** Whether this connection's session has been closed (e.g. by the slow-consumer policy); any thread. */
    public boolean sessionClosed() {
        Session s = session;
        return s != null && !s.isOpen();
    }

    // ---- Transport: any thread ----

    @Override
    public void wake() {
        channel.eventLoop().execute(this::drain);
    }

    @Override
    public void close(CloseCode code, String reason) {
        channel.eventLoop().execute(() -> closeOnLoop(code, reason));
    }

    /**
     * Whether the client has stopped reading: the drain flushed and the channel stayed over Netty's high-water mark
     * (it waits for the client), or, with a thread per connection, that thread is stuck in a write.
     */
    @Override
    public boolean backlogged() {
        return waitingForClient || writeBlocked.test(channel);
    }

    // ---- on the event loop ----

    private void drain() {
        if (session == null || closing || !channel.isActive()) {
            return;
        }
        if (cutOff.getAsBoolean()) {
            channel.close(); // past the shutdown deadline: what is still queued is not delivered
            return;
        }
        boolean wrote = false;
        while (true) {
            String frame;
            while (channel.isWritable() && (frame = session.poll()) != null) {
                channel.write(new TextWebSocketFrame(frame), channel.voidPromise());
                wrote = true;
            }
            if (!channel.isWritable()) {
                channel.flush();
                if (!channel.isWritable()) {
                    waitingForClient = true; // the kernel did not take it all: the client is behind
                    return; // still scheduled: channelWritabilityChanged resumes the drain
                }
                continue; // our own unflushed batch was over the mark, and the kernel took it
            }
            CloseCode pending = session.pendingClose();
            if (pending != null) {
                if (wrote) {
                    channel.flush();
                }
                closeOnLoop(pending, session.pendingReason());
                return;
            }
            if (!session.drained()) {
                break;
            }
        }
        if (wrote) {
            channel.flush();
        }
    }

    private void closeOnLoop(CloseCode code, String reason) {
        closeOnLoop(code, reason, false);
    }

    /**
     * Closes with {@code code}: our Close frame, then the TCP close once the client answers or after the grace.
     * {@code unreadInput}: the client may still be sending what we refused (the rest of an oversize frame), and
     * closing a socket with unread bytes makes the kernel reset the connection, losing our Close frame on the way
     * (a browser then reports 1006). So the output is shut down (FIN) after the Close frame and the connection is
     * read, and discarded, until the client closes its side (or the grace ends).
     */
    private void closeOnLoop(CloseCode code, String reason, boolean unreadInput) {
        if (closing) {
            return;
        }
        closing = true;
        if (session != null) {
            session.closeNow(code, reason); // marks the session closed (this call back is a no-op)
        }
        if (!channel.isActive()) {
            return;
        }
        if (!channel.isWritable()) {
            channel.close(); // the client is not reading: a Close frame would never get through
            return;
        }
        // Close handshake: our Close frame, then the client's reply makes the protocol handler close the channel;
        // a client that does not answer is cut off after the grace period.
        ChannelFuture sent = channel.writeAndFlush(new CloseWebSocketFrame(code.code(), reason));
        if (unreadInput && channel instanceof DuplexChannel duplex) {
            sent.addListener(f -> {
                if (f.isSuccess()) {
                    duplex.shutdownOutput(); // the client's EOF after it reads the Close frame closes the channel
                } else {
                    channel.close();
                }
            });
        } else {
            sent.addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, unreadInput ? VIOLATION_GRACE_MILLIS : CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }
}
