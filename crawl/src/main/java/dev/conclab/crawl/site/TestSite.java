package dev.conclab.crawl.site;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.FullHttpRequest;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The local test site: a real HTTP/1.1 server on loopback (Netty, epoll when available) serving the generated site of
 * {@link SiteLayout}, with the latency, faults and rate limit of its {@link SiteConfig}.
 *
 * <p>Routes: {@code /} (301 to {@code /page/0}), {@code /page/N}, {@code /robots.txt} (disallows
 * {@link SiteLayout#DISALLOWED}), {@code /private/N}, {@code /redirect/N} (301 to {@code /page/N}),
 * {@code /loop/N/a} and {@code /loop/N/b} (302 to each other), {@code /chain/K} (302 to {@code /chain/K-1}, then
 * {@code /page/0}), {@code /huge/N}, {@code /binary/N}, {@code /flaky/N} (503 {@link SiteLayout#FLAKY_FAILURES} times,
 * then 200), {@code /slow/N} (delayed by the slow delay); anything else 404.
 *
 * <p>Latency is scheduled on the connection's event loop: no thread waits for it. Thread-safe; {@link #close()} stops
 * every thread the site started and waits for them.
 */
public final class TestSite implements AutoCloseable {

    private final SiteConfig config;
    private final SiteLayout layout;
    private final SiteLoops group;
    private final Channel serverChannel;
    private final RequestLog log = new RequestLog();
    private final LongAdder served = new LongAdder();
    private final ConcurrentHashMap<String, AtomicInteger> flakyCounts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<InetAddress, ClientBucket> buckets = new ConcurrentHashMap<>();
    private final byte[] hugeBody;
    private final byte[] binaryBody;
    private final byte[] robotsBody = SiteLayout.robots();

    private TestSite(SiteConfig config) throws InterruptedException {
        this.config = config;
        this.layout = new SiteLayout(config);
        this.hugeBody = layout.huge();
        this.binaryBody = layout.binary();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        this.group = new SiteLoops(config.ioThreads(), io);
        try {
            this.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 << 10),
                                    new Handler());
                        }
                    })
                    .bind(InetAddress.getLoopbackAddress(), config.port()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.close();
            throw e;
        }
    }

    /**
     * Starts a site on loopback. Returns once it accepts connections.
     *
     * @throws IllegalStateException when the port cannot be bound
     */
    public static TestSite start(SiteConfig config) {
        try {
            return new TestSite(config);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the test site", e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test site on port " + config.port() + ": " + e, e);
        }
    }

    public SiteConfig config() {
        return config;
    }

    public SiteLayout layout() {
        return layout;
    }

    /** The requests answered so far (recorded only when the config asks for it). */
    public RequestLog log() {
        return log;
    }

    /** Requests answered since the start. */
    public long served() {
        return served.sum();
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** {@code http://127.0.0.1:PORT} with {@code path} appended. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /**
     * Stops accepting, closes every connection and waits for the event-loop threads to end: when it returns, no
     * thread of the site is alive (Netty's global executor is never involved, see {@link SiteLoops}). Idempotent.
     */
    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        group.close();
    }

    /** A response to send: status, content type, body, and an optional Location or Retry-After. */
    private record Reply(HttpResponseStatus status, String contentType, byte[] body, String location,
                         String retryAfter, long extraDelayNanos) {
        static Reply html(byte[] body) {
            return new Reply(HttpResponseStatus.OK, "text/html; charset=utf-8", body, null, null, 0);
        }

        static Reply status(HttpResponseStatus status) {
            return new Reply(status, "text/plain; charset=utf-8",
                    status.toString().getBytes(StandardCharsets.US_ASCII), null, null, 0);
        }

        static Reply redirect(HttpResponseStatus status, String location) {
            return new Reply(status, "text/plain; charset=utf-8", new byte[0], location, null, 0);
        }

        Reply delayedBy(long nanos) {
            return new Reply(status, contentType, body, location, retryAfter, extraDelayNanos + nanos);
        }
    }

    private Reply route(String target, InetAddress client) {
        if (config.rateLimit() > 0 && !buckets.computeIfAbsent(client, c -> new ClientBucket(config.rateLimit()))
                .tryTake(System.nanoTime())) {
            Reply r = Reply.status(HttpResponseStatus.TOO_MANY_REQUESTS);
            return new Reply(r.status(), r.contentType(), r.body(), null,
                    Integer.toString(config.retryAfterSeconds()), 0);
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        if (path.equals("/")) {
            return Reply.redirect(HttpResponseStatus.MOVED_PERMANENTLY, "/page/0");
        }
        if (path.equals("/robots.txt")) {
            return new Reply(HttpResponseStatus.OK, "text/plain; charset=utf-8", robotsBody, null, null, 0);
        }
        String[] parts = path.split("/", -1); // "", kind, arg[, arg]
        if (parts.length < 3) {
            return Reply.status(HttpResponseStatus.NOT_FOUND);
        }
        int n = parseIndex(parts[2]);
        if (n < 0) {
            return Reply.status(HttpResponseStatus.NOT_FOUND);
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return switch (parts[1]) {
            case "page" -> {
                if (n >= config.pages() || parts.length != 3) {
                    yield Reply.status(HttpResponseStatus.NOT_FOUND);
                }
                if (config.errorRate() > 0 && random.nextDouble() < config.errorRate()) {
                    yield Reply.status(HttpResponseStatus.SERVICE_UNAVAILABLE);
                }
                Reply page = Reply.html(layout.page(n));
                yield config.slowRate() > 0 && random.nextDouble() < config.slowRate()
                        ? page.delayedBy(config.slowDelay().toNanos()) : page;
            }
            case "private" -> Reply.html(SiteLayout.leaf(path));
            case "redirect" -> Reply.redirect(HttpResponseStatus.MOVED_PERMANENTLY, "/page/" + n);
            case "loop" -> parts.length == 4 && (parts[3].equals("a") || parts[3].equals("b"))
                    ? Reply.redirect(HttpResponseStatus.FOUND, "/loop/" + n + "/" + (parts[3].equals("a") ? "b" : "a"))
                    : Reply.status(HttpResponseStatus.NOT_FOUND);
            case "chain" -> Reply.redirect(HttpResponseStatus.FOUND, n == 0 ? "/page/0" : "/chain/" + (n - 1));
            case "huge" -> Reply.html(hugeBody);
            case "binary" -> new Reply(HttpResponseStatus.OK, "application/octet-stream", binaryBody, null, null, 0);
            case "flaky" -> flakyCounts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet()
                    <= SiteLayout.FLAKY_FAILURES
                    ? Reply.status(HttpResponseStatus.SERVICE_UNAVAILABLE) : Reply.html(SiteLayout.leaf(path));
            case "slow" -> Reply.html(SiteLayout.leaf(path)).delayedBy(config.slowDelay().toNanos());
            default -> Reply.status(HttpResponseStatus.NOT_FOUND);
        };
    }

    /** A non-negative decimal index, or -1. */
    private static int parseIndex(String s) {
        if (s.isEmpty() || s.length() > 9) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private long delayNanos() {
        long base = config.latency().toNanos();
        long jitter = config.jitter().toNanos();
        return jitter == 0 ? base : base + ThreadLocalRandom.current().nextLong(jitter + 1);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            long arrived = System.nanoTime();
            InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
            Reply reply = route(request.uri(), client);
            if (config.recordRequests()) {
                log.record(new RequestLog.Hit(arrived, client.getHostAddress(), request.uri(), reply.status().code()));
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            long delay = delayNanos() + reply.extraDelayNanos();
            if (delay <= 0) {
                write(ctx, request, reply, keepAlive);
            } else {
                // Scheduled on the connection's own event loop: latency costs a timer, not a thread.
                ctx.executor().schedule(() -> write(ctx, request, reply, keepAlive), delay, TimeUnit.NANOSECONDS);
            }
        }

        private void write(ChannelHandlerContext ctx, HttpRequest request, Reply reply, boolean keepAlive) {
            ByteBuf body = Unpooled.wrappedBuffer(reply.body());
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(), body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
            if (reply.location() != null) {
                response.headers().set(HttpHeaderNames.LOCATION, reply.location());
            }
            if (reply.retryAfter() != null) {
                response.headers().set(HttpHeaderNames.RETRY_AFTER, reply.retryAfter());
            }
            served.increment();
            if (keepAlive) {
                if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                }
                ctx.writeAndFlush(response, ctx.voidPromise());
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a client that vanished mid-response: nothing to answer
        }
    }

    /** A per-client token bucket of {@code rate} tokens per second and a burst of {@code rate}. */
    private static final class ClientBucket {
        private final double perNano;
        private final double capacity;
        private double tokens;
        private long last;

        ClientBucket(int rate) {
            this.perNano = rate / 1e9;
            this.capacity = rate;
            this.tokens = rate;
            this.last = System.nanoTime();
        }

        synchronized boolean tryTake(long now) {
            tokens = Math.min(capacity, tokens + (now - last) * perNano);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
