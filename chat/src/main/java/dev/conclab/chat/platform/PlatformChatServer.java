package dev.conclab.chat.platform;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.ChatStats;
import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.netty.ChatChannelHandler;
import dev.conclab.chat.netty.ChatPipeline;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.oio.OioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.oio.OioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The experiment-only platform-thread-per-connection model: Netty's deprecated OIO transport
 * ({@link OioEventLoopGroup} with no channel limit, {@link OioServerSocketChannel}) gives every connection its own
 * <em>platform</em> thread, named {@code chat-platform-N}, which reads the socket with plain blocking
 * {@code java.net.Socket} I/O. The pipeline and the connection handler are the event-loop model's
 * ({@link ChatChannelHandler}), so the protocol, the limits and the backpressure are the same; only the threading
 * differs. It exists to measure where a thread per connection stops scaling, not to be served.
 *
 * <p><b>How OIO writes.</b> A connection's thread does everything for it: reads, and the writes other threads ask
 * for (a broadcast's {@code wake()} submits a task to that thread). While it is blocked in {@code read()} it cannot
 * write, so OIO reads with {@code SO_TIMEOUT} ({@link #DEFAULT_SO_TIMEOUT_MILLIS} here, Netty's default is 1 s):
 * a read that times out returns, the thread runs the queued writes and reads again. So a delivery waits up to that
 * timeout, and every idle connection's thread still wakes once per timeout: the cost of blocking I/O without a
 * second thread per connection.
 *
 * <p><b>Thread safety and shutdown</b> as {@link ChatServer} states: {@link #close(Duration)} waits for every
 * connection's thread to end. Two more threads: {@code chat-platform-accept-N} blocks in {@code accept()}, and
 * {@code chat-platform-reaper} shuts the socket of a connection whose session is closed (the slow-consumer policy)
 * while its thread is blocked in a write: the close is a task for that very thread, which cannot run it while the
 * write blocks on a client that stopped reading.
 */
@SuppressWarnings("deprecation") // Netty's OIO transport is deprecated; it is the thread-per-connection model itself
public final class PlatformChatServer implements ChatServer {

    /** The read timeout after which a connection's thread runs the writes queued for it (bounds delivery delay). */
    public static final int DEFAULT_SO_TIMEOUT_MILLIS = 10;

    /** A write blocked this long means the client is not reading (a write to a reading client takes microseconds). */
    static final long BACKLOGGED_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ChatConfig config;
    private final ChatHub hub;
    private final EventLoopGroup acceptor;
    private final EventLoopGroup connections;
    private final ChatPipeline pipeline;
    private final Channel serverChannel;
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread reaper;
    private volatile boolean drainedInTime;

    private PlatformChatServer(ChatConfig config, int soTimeoutMillis) throws InterruptedException {
        this.config = config;
        this.hub = new ChatHub(config);
        // 0 = no limit on channels: one ThreadPerChannelEventLoop, so one platform thread, per connection
        this.acceptor = new OioEventLoopGroup(1, new DefaultThreadFactory("chat-platform-accept", false));
        this.connections = new OioEventLoopGroup(0, new DefaultThreadFactory("chat-platform", false));
        this.pipeline = new ChatPipeline(hub, config);
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(acceptor, connections)
                    .channelFactory(() -> new PlatformServerSocketChannel(newServerSocket()))
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_TIMEOUT, 100)          // accept() wakes to see the close
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_TIMEOUT, soTimeoutMillis)
                    // Netty's pooling allocator keeps per-thread caches sized for a few event-loop threads: with a
                    // thread per connection they cost ~900 KB of heap chunks per connection (measured). Unpooled
                    // buffers keep the measurement about threads, not about an allocator built for event loops.
                    .childOption(ChannelOption.ALLOCATOR, UnpooledByteBufAllocator.DEFAULT)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            channels.add(ch);
                            ch.closeFuture().addListener(f -> channels.remove(ch));
                            // backlogged: its thread has been blocked in one write for a while (OIO's flush
                            // blocks until the kernel takes everything, so the drain itself never waits)
                            pipeline.install(ch, c -> c instanceof PlatformSocketChannel p
                                    && p.writeBlockedNanos(System.nanoTime()) >= BACKLOGGED_AFTER_NANOS);
                        }
                    })
                    .bind(config.host(), config.port()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            stopThreads();
            hub.close();
            throw e;
        }
        this.reaper = Thread.ofPlatform().name("chat-platform-reaper").daemon(false).start(this::reap);
    }

    private static ServerSocket newServerSocket() {
        try {
            return new ServerSocket();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every 50 ms: cut off the connections whose session is closed while their thread is stuck in a write (the
     * close is a task for that thread, which cannot run it until the write returns, and a client that stopped
     * reading never lets it return).
     */
    private void reap() {
        while (!closing.get() || !channels.isEmpty()) {
            long now = System.nanoTime();
            for (Channel ch : channels) {
                if (ch instanceof PlatformSocketChannel p && p.writeBlockedNanos(now) > 0
                        && ch.pipeline().get(ChatChannelHandler.class) instanceof ChatChannelHandler h
                        && h.sessionClosed()) {
                    p.cutOff();
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Starts a server with the default read timeout; returns once it accepts connections.
     *
     * @throws IllegalStateException when it cannot start (the port is taken, the address is not local)
     */
    public static PlatformChatServer start(ChatConfig config) {
        return start(config, DEFAULT_SO_TIMEOUT_MILLIS);
    }

    /**
     * Starts a server whose connection threads break out of a blocking read every {@code soTimeoutMillis} to write.
     *
     * @throws IllegalArgumentException when {@code soTimeoutMillis} is not in 1..10,000
     * @throws IllegalStateException    when it cannot start
     */
    public static PlatformChatServer start(ChatConfig config, int soTimeoutMillis) {
        Objects.requireNonNull(config, "config");
        if (soTimeoutMillis < 1 || soTimeoutMillis > 10_000) {
            throw new IllegalArgumentException("soTimeoutMillis must be in 1..10000, got " + soTimeoutMillis);
        }
        try {
            return new PlatformChatServer(config, soTimeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the chat server", e);
        } catch (Exception e) {
            throw ChatServer.cannotStart(config, e);
        }
    }

    @Override
    public ChatModel model() {
        return ChatModel.PLATFORM;
    }

    @Override
    public ChatConfig config() {
        return config;
    }

    @Override
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public ChatStats stats() {
        return hub.stats();
    }

    /** Connections open now (each holds one platform thread). */
    public int connections() {
        return channels.size();
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
            serverChannel.close().awaitUninterruptibly();
            hub.shutdown();
            while (!channels.isEmpty() && System.nanoTime() - deadline < 0) {
                Thread.sleep(5);
            }
            drainedInTime = channels.isEmpty();
            cutOffAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cutOffAll();
        } finally {
            reaper.interrupt();
            stopThreads();
            joinQuietly(reaper);
            hub.close();
            closed.countDown();
        }
        return drainedInTime;
    }

    /** Closes what is left: the socket too, since a thread stuck in a write would never run the channel's close. */
    private void cutOffAll() {
        pipeline.cutOff();
        for (Channel ch : channels) {
            ch.close();
            if (ch instanceof PlatformSocketChannel p) {
                p.cutOff();
            }
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the accept thread and every connection thread (each notices within its read timeout). */
    private void stopThreads() {
        acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        connections.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        try {
            acceptor.awaitTermination(10, TimeUnit.SECONDS);
            connections.awaitTermination(10, TimeUnit.SECONDS);
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
