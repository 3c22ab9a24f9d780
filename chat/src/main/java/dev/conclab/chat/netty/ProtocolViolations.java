package dev.conclab.chat.netty;

import dev.conclab.chat.protocol.CloseCode;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;

/**
 * Catches the WebSocket codec's protocol violations (a frame over the size limit: 1009; invalid UTF-8: 1007; a
 * malformed frame: 1002) before Netty's {@code WebSocketServerProtocolHandler} sees them, and hands each to the chat
 * handler as a {@link Violation} event. Why: the protocol handler answers any exception by closing the TCP
 * connection at once, and the codec (with {@code closeOnProtocolViolation}) closes it right after its Close frame;
 * either way the client's unread bytes (the rest of an oversize frame) make the kernel reset the connection, and a
 * browser reports 1006 instead of the code sent. The chat handler sends the Close frame, shuts the output down and
 * keeps reading (the codec discards what follows) until the client closes or the grace period ends.
 *
 * <p>Sits between the codec's decoder (or {@code Utf8FrameValidator}) and the protocol handler; stateless and
 * {@linkplain ChannelHandler.Sharable sharable}. Other exceptions pass on unchanged.
 */
@ChannelHandler.Sharable
final class ProtocolViolations extends ChannelInboundHandlerAdapter {

    static final ProtocolViolations INSTANCE = new ProtocolViolations();

    /** A user event: the connection broke the WebSocket protocol; close it with {@code code}. */
    record Violation(CloseCode code, String reason) {}

    private ProtocolViolations() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException c) {
            CloseCode code = switch (c.closeStatus().code()) {
                case 1007 -> CloseCode.INVALID_PAYLOAD;
                case 1009 -> CloseCode.MESSAGE_TOO_BIG;
                default -> CloseCode.PROTOCOL_ERROR;
            };
            String reason = c.getMessage() == null ? c.closeStatus().reasonText() : c.getMessage();
            ctx.fireUserEventTriggered(new Violation(code, reason));
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }
}
