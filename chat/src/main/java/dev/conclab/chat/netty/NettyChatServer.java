package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.ChatStats;
import dev.conclab.chat.core.ChatHub;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The event-loop model: Netty multiplexes every connection over {@link ChatConfig#ioThreads()} event-loop threads,
 * on the native epoll transport when it is available (Linux) and on NIO otherwise. The HTTP upgrade and the
 * WebSocket framing (masking, fragmentation, control frames, UTF-8 validation, the size limit) are Netty's codec;
 * this class wires the pipeline and the shutdown, {@link ChatChannelHandler} the connection, {@link ChatHub} the chat.
 *
 * <p>Pipeline per connection: idle handler (first, so that any bytes read count, pongs included), HTTP codec
 * (replaced by the WebSocket decoder and encoder at the upgrade), HTTP aggregator (the upgrade request), UTF-8
 * validator, {@link ProtocolViolations} (a violation becomes a Close frame the client does receive), WebSocket
 * protocol handler (path, max frame payload, answers pings and
 * Close frames), frame aggregator (a fragmented message is bounded by the same
 * limit), the chat handler. The idle handler sends a ping after half the idle timeout of silence and the chat handler
 * closes with 1001 when the other half passes without a frame.
 *
 * <p><b>Thread safety and shutdown</b> as {@link ChatServer} states. The event-loop threads are named
 * {@code chat-netty-N}; {@link #close(Duration)} waits for them to end.
 */
public final class NettyChatServer implements ChatServer {

    private final ChatConfig config;
    private final ChatHub hub;
    private final EventLoopGroup group;
    private final ChatPipeline pipeline;
    private final Channel serverChannel;
    private final boolean nativeTransport;
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean drainedInTime;

    private NettyChatServer(ChatConfig config, boolean preferNative) throws InterruptedException {
        this.config = config;
        this.hub = new ChatHub(config);
        this.nativeTransport = preferNative && Epoll.isAvailable();
        IoHandlerFactory io = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = nativeTransport ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                new DefaultThreadFactory("chat-netty", false), io);
        this.pipeline = new ChatPipeline(hub, config);
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            channels.add(ch);
                            ch.closeFuture().addListener(f -> channels.remove(ch));
                            pipeline.install(ch);
                        }
                    })
                    .bind(config.host(), config.port()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            hub.close();
            throw e;
        }
    }

    /**
     * Starts a server on the native transport when available; returns once it accepts connections.
     *
     * @throws IllegalStateException when it cannot start (the port is taken, the address is not local)
     */
    public static NettyChatServer start(ChatConfig config) {
        return start(config, true);
    }

    /**
     * Starts a server, on epoll if {@code preferNative} and available, else on NIO (to compare the two).
     *
     * @throws IllegalStateException when it cannot start
     */
    public static NettyChatServer start(ChatConfig config, boolean preferNative) {
        Objects.requireNonNull(config, "config");
        try {
            return new NettyChatServer(config, preferNative);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the chat server", e);
        } catch (Exception e) {
            throw ChatServer.cannotStart(config, e);
        }
    }

    @Override
    public ChatModel model() {
        return ChatModel.EVENTLOOP;
    }

    @Override
    public ChatConfig config() {
        return config;
    }

    /** {@code "epoll"} or {@code "nio"}: the transport in use. */
    public String transport() {
        return nativeTransport ? "epoll" : "nio";
    }

    @Override
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public ChatStats stats() {
        return hub.stats();
    }

    @Override
    public boolean close(Duration drain) {
        Objects.requireNonNull(drain, "drain");
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return drainedInTime;
        }
        try {
            long deadline = System.nanoTime() + drain.toNanos();
            serverChannel.close().awaitUninterruptibly();     // 1. stop accepting
            hub.shutdown();                                    // 2. 1001 behind every queue
            while (!channels.isEmpty() && System.nanoTime() - deadline < 0) {
                Thread.sleep(5);                               // 3. drain until the deadline
            }
            drainedInTime = channels.isEmpty();
            pipeline.cutOff();                                 // 4. cut off the rest: late drains close, not write
            for (Channel ch : channels) {
                ch.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pipeline.cutOff();
            for (Channel ch : channels) {
                ch.close();
            }
        } finally {
            stopEventLoops();
            hub.close();
            closed.countDown();
        }
        return drainedInTime;
    }

    /**
     * Shuts the event loops down and waits for their threads (at most 2 s for the loops plus slack). Waits on the
     * loops themselves, not on the group's termination future, which is completed through Netty's shared
     * GlobalEventExecutor. (That executor's daemon thread still runs Netty's termination callbacks for about a second
     * after the loops end, then stops by itself; the contract tests check for it once per class.)
     */
    /** The listening channel, for tests that must hold up an I/O thread it does not use. */
    Channel serverChannel() {
        return serverChannel;
    }

    /** The connections open now (a live view), for tests. */
    Set<Channel> openChannels() {
        return channels;
    }

    /** Whether the shutdown deadline has passed (the drains were told to close), for tests. */
    boolean cutOffSignalled() {
        return pipeline.isCutOff();
    }

    private void stopEventLoops() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        try {
            group.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitClosed() {
        boolean interrupted = false;
        while (true) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
