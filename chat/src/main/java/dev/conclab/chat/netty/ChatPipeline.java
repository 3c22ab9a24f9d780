package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.core.ChatHub;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The one pipeline of a chat connection on Netty, whatever threads run it: the event-loop model installs it on
 * epoll or NIO channels, the experiment-only platform model on OIO channels. HTTP (the page and the upgrade), the
 * WebSocket codec with the configured frame limit, protocol violations turned into Close frames the client can read
 * ({@link ProtocolViolations}), and the {@link ChatChannelHandler}. One per server; thread-safe.
 *
 * <p><b>The shutdown deadline.</b> {@link #cutOff()} tells every connection's drain that the server's drain deadline
 * has passed: a drain that runs after it (a task queued behind others on a busy event loop) closes its channel
 * instead of writing, so the deadline holds even when the I/O threads are behind.
 */
public final class ChatPipeline {

    private final ChatHub hub;
    private final ChatConfig config;
    private final WebSocketServerProtocolConfig ws;
    private final long pingAfterMillis;
    private volatile boolean cutOff;

    /** The pipeline for connections to {@code hub}, with the limits of {@code config}. */
    public ChatPipeline(ChatHub hub, ChatConfig config) {
        this.hub = hub;
        this.config = config;
        this.ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(config.path())
                .checkStartsWith(true)                  // ws://host:port/chat?name=alice
                .handleCloseFrames(true)
                .dropPongFrames(false)                  // the chat handler sees pongs: the client is alive
                // Violations go to ProtocolViolations, not to a Close frame + TCP close (see that class). The UTF-8
                // validator is ours too: Netty would put its own after ProtocolViolations, out of its reach.
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.maxFrameBytes())
                        .allowExtensions(false)
                        .closeOnProtocolViolation(false)
                        .withUTF8Validator(false)
                        .build())
                .handshakeTimeoutMillis(10_000)
                .build();
        this.pingAfterMillis = Math.max(1, config.idleTimeout().toMillis() / 2);
    }

    /** The server's drain deadline has passed: from now on a drain closes its channel instead of writing. */
    public void cutOff() {
        cutOff = true;
    }

    /** Whether {@link #cutOff()} was called. */
    public boolean isCutOff() {
        return cutOff;
    }

    /** Installs the handlers on {@code ch}, a channel of an event loop (whose writes never block). */
    public void install(Channel ch) {
        install(ch, c -> false);
    }

    /**
     * Installs the handlers on {@code ch}; {@code writeBlocked} tells whether the channel's own thread is stuck in a
     * blocking write (see {@link ChatChannelHandler#backlogged()}).
     */
    public void install(Channel ch, Predicate<Channel> writeBlocked) {
        ch.pipeline().addLast(
                // first: any bytes read, pongs included, count as life
                new IdleStateHandler(pingAfterMillis, 0, 0, TimeUnit.MILLISECONDS),
                new HttpServerCodec(),
                new HttpObjectAggregator(8 << 10),
                new Utf8FrameValidator(false),
                ProtocolViolations.INSTANCE,
                new WebSocketServerProtocolHandler(ws),
                new WebSocketFrameAggregator(config.maxFrameBytes()),
                new ChatChannelHandler(hub, config.path(), writeBlocked, () -> cutOff));
    }
}
