package dev.conclab.lab.experiments.messaging;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A loopback TCP echo server on Netty and N client connections to it, each side on an event-loop group of its own,
 * for the messaging experiments. Messages are {@value #MESSAGE} bytes; a message that starts with {@code 'b'} makes
 * the server run a {@link Blocking} action before echoing it, either on the event loop itself (Broken: every
 * connection of that loop waits) or on a virtual thread of its own (the loop goes on).
 *
 * <p>Not thread-safe for configuration: {@link #onEcho}, {@link #onBlock} are set by the experiment's thread between
 * phases, while no message is in flight. Echo callbacks run on the client group's event loop. {@link #close} stops
 * every channel and both groups and waits for their threads to end.
 */
final class EventLoopTransportEcho implements AutoCloseable {

    /** The size of every message, in bytes. */
    static final int MESSAGE = 8;
    private static final byte[] PING = "ping...\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLOCK = "block..\n".getBytes(StandardCharsets.US_ASCII);

    /** Netty's two Linux transports: the JDK's NIO selector, and Netty's own JNI binding to epoll. */
    enum Transport {
        NIO, EPOLL;

        IoHandlerFactory ioHandler() {
            return this == NIO ? NioIoHandler.newFactory() : EpollIoHandler.newFactory();
        }

        Class<? extends ServerChannel> serverChannel() {
            return this == NIO ? NioServerSocketChannel.class : EpollServerSocketChannel.class;
        }

        Class<? extends Channel> channel() {
            return this == NIO ? NioSocketChannel.class : EpollSocketChannel.class;
        }

        /** Why this transport cannot run here, or empty when it can. */
        Optional<String> unavailable() {
            if (this == NIO || Epoll.isAvailable()) {
                return Optional.empty();
            }
            return Optional.of("Netty's native epoll transport is not available here: " + Epoll.unavailabilityCause());
        }
    }

    /** What a blocking message does (a stand-in for a synchronous driver call); may throw to end the phase. */
    @FunctionalInterface
    interface Blocking {
        void run() throws InterruptedException;
    }

    /** Called on the client group's loop when connection {@code index} receives an echo, at {@code nanos}. */
    @FunctionalInterface
    interface EchoListener {
        void echoed(int index, long nanos);
    }

    private final Transport transport;
    private final MultiThreadIoEventLoopGroup serverGroup;
    private final MultiThreadIoEventLoopGroup clientGroup;
    private final List<Thread> serverThreads = new CopyOnWriteArrayList<>();
    private final List<Thread> allThreads = new CopyOnWriteArrayList<>();
    private final Set<EventLoop> serverLoops = ConcurrentHashMap.newKeySet();
    private final Channel server;
    private final Bootstrap bootstrap;
    private final List<Channel> clients = new ArrayList<>();
    private volatile EchoListener onEcho = (index, nanos) -> { };
    private volatile Blocking onBlock = () -> { };
    private volatile boolean offload;

    /**
     * Starts the server on {@code serverThreads} event-loop threads and a client group of {@code clientThreads}.
     *
     * @throws IllegalStateException when the transport is unavailable
     */
    EventLoopTransportEcho(Transport transport, int serverThreads, int clientThreads, int backlog)
            throws InterruptedException {
        transport.unavailable().ifPresent(reason -> {
            throw new IllegalStateException(reason);
        });
        this.transport = transport;
        String name = "echo-" + transport.name().toLowerCase();
        this.serverGroup = new MultiThreadIoEventLoopGroup(serverThreads,
                recording(new DefaultThreadFactory(name + "-server", true), this.serverThreads),
                transport.ioHandler());
        this.clientGroup = new MultiThreadIoEventLoopGroup(clientThreads,
                recording(new DefaultThreadFactory(name + "-client", true), new CopyOnWriteArrayList<>()),
                transport.ioHandler());
        try {
            this.server = new ServerBootstrap()
                    .group(serverGroup)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, backlog)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            serverLoops.add(ch.eventLoop());
                            ch.pipeline().addLast(new FixedLengthFrameDecoder(MESSAGE), new ServerHandler());
                        }
                    })
                    .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            shutdown();
            throw e;
        }
        this.bootstrap = new Bootstrap()
                .group(clientGroup)
                .channel(transport.channel())
                .option(ChannelOption.TCP_NODELAY, true);
    }

    private ThreadFactory recording(ThreadFactory factory, List<Thread> into) {
        return task -> {
            Thread t = factory.newThread(task);
            into.add(t);
            allThreads.add(t);
            return t;
        };
    }

    /** Opens {@code n} more client connections, one after another. */
    void connect(int n) throws InterruptedException {
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        for (int i = 0; i < n; i++) {
            int index = clients.size();
            Channel ch = bootstrap.clone()
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new FixedLengthFrameDecoder(MESSAGE), new ClientHandler(index));
                        }
                    })
                    .connect(address).sync().channel();
            clients.add(ch);
        }
    }

    Transport transport() {
        return transport;
    }

    int connections() {
        return clients.size();
    }

    /** The server group's threads started so far (a group starts a thread when it first gets work). */
    int serverThreads() {
        return serverThreads.size();
    }

    /** CPU time (user and system) used so far by both groups' event-loop threads, in nanoseconds. */
    long loopCpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : allThreads) {
            sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
        }
        return sum;
    }

    /** Heap bytes allocated so far by both groups' event-loop threads. */
    long loopAllocatedBytes() {
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : allThreads) {
            sum += Math.max(0, mx.getThreadAllocatedBytes(t.threadId()));
        }
        return sum;
    }

    /** How many distinct event loops the server's accepted channels were registered with. */
    int serverLoopsUsed() {
        return serverLoops.size();
    }

    /** The class of the server channel, e.g. {@code EpollServerSocketChannel}. */
    String serverChannelClass() {
        return server.getClass().getSimpleName();
    }

    void onEcho(EchoListener listener) {
        this.onEcho = listener;
    }

    /** What a blocking message does, and whether the server runs it off its event loop. */
    void onBlock(Blocking action, boolean offload) {
        this.onBlock = action;
        this.offload = offload;
    }

    /** Writes one ping on connection {@code index}; returns once it is queued on the client's loop. */
    void ping(int index) {
        clients.get(index).writeAndFlush(Unpooled.wrappedBuffer(PING));
    }

    /** Writes one ping on connection {@code index} and waits until it has been handed to the kernel. */
    void pingFlushed(int index) throws InterruptedException {
        clients.get(index).writeAndFlush(Unpooled.wrappedBuffer(PING)).sync();
    }

    /** Writes the blocking message on connection {@code index}. */
    void block(int index) {
        clients.get(index).writeAndFlush(Unpooled.wrappedBuffer(BLOCK));
    }

    /**
     * Every connection plays ping-pong: {@code rounds} round trips each, all connections at once; returns when all
     * are done.
     */
    void pingPong(int rounds) throws InterruptedException {
        int n = clients.size();
        AtomicIntegerArray left = new AtomicIntegerArray(n);
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            left.set(i, rounds - 1);
        }
        onEcho((index, nanos) -> {
            if (left.getAndDecrement(index) > 0) {
                ping(index);
            } else {
                done.countDown();
            }
        });
        for (int i = 0; i < n; i++) {
            ping(i);
        }
        if (!done.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("ping-pong did not finish in 5 minutes: " + done.getCount() + " left");
        }
        onEcho((index, nanos) -> { });
    }

    private final class ServerHandler extends SimpleChannelInboundHandler<ByteBuf> {
        ServerHandler() {
            super(false); // the frame is echoed, not released here
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
            if (msg.getByte(msg.readerIndex()) != 'b') {
                ctx.writeAndFlush(msg);
            } else if (!offload) {
                onBlock.run(); // Broken: the event loop thread, and every channel it serves, waits here
                ctx.writeAndFlush(msg);
            } else {
                Blocking action = onBlock;
                Thread.ofVirtual().name("echo-offload").start(() -> {
                    try {
                        action.run();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        ctx.writeAndFlush(msg); // thread-safe: Netty hands the write to the channel's loop
                    }
                });
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class ClientHandler extends SimpleChannelInboundHandler<ByteBuf> {
        private final int index;

        ClientHandler(int index) {
            this.index = index;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            onEcho.echoed(index, System.nanoTime());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Channel ch : clients) {
            ch.close();
        }
        server.close();
        shutdown();
    }

    private void shutdown() throws InterruptedException {
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        for (Thread t : allThreads) {
            t.join(5_000);
        }
    }
}
