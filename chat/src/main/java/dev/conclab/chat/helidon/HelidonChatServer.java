package dev.conclab.chat.helidon;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.ChatStats;
import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.web.WebPage;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.websocket.WsConfig;
import io.helidon.webserver.websocket.WsRouting;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The virtual-thread model: Helidon SE's WebServer gives every connection its own virtual thread that reads with
 * plain blocking I/O; {@link ChatWsConnection} adds a writer virtual thread per connection that drains the outbox
 * with blocking sends. The HTTP upgrade and the WebSocket framing (masking, fragmentation, control frames, the
 * per-frame size limit) are Helidon's; binary, oversize fragmented messages, invalid UTF-8 and the idle timeout are
 * enforced by {@link ChatWsConnection}, since Helidon's WebSocket does not.
 *
 * <p>Helidon's own idle-connection sweep is set past the chat's idle timeout (the chat pings and closes with 1001
 * first), and its shutdown hook is off (this class stops the server).
 *
 * <p>Helidon 4.5.0 leaves one timer thread per WebServer running after {@code stop()}; {@link IdleTimerWorkaround}
 * stops it (with {@code --add-opens java.base/java.util=ALL-UNNAMED}).
 *
 * <p><b>Thread safety and shutdown</b> as {@link ChatServer} states. Helidon cannot stop accepting while keeping the
 * open connections, so shutdown first refuses new upgrades, drains, cuts off the rest, then stops the WebServer
 * (which closes the listening socket and ends its accept thread) and waits for every per-connection thread.
 */
public final class HelidonChatServer implements ChatServer {

    private final ChatConfig config;
    private final ChatHub hub;
    private final WebServer webServer;
    private final Set<ChatWsConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean drainedInTime;
    private Thread idleTimer;

    private HelidonChatServer(ChatConfig config) {
        this.config = config;
        this.hub = new ChatHub(config);
        Duration helidonIdle = config.idleTimeout().multipliedBy(2).plusSeconds(60);
        try {
            synchronized (IdleTimerWorkaround.startGuard()) {
                Set<Thread> before = IdleTimerWorkaround.timerThreads();
                this.webServer = start(config, helidonIdle);
                this.idleTimer = IdleTimerWorkaround.timerThreads().stream().filter(t -> !before.contains(t))
                        .findFirst().orElse(null);
            }
        } catch (RuntimeException e) {
            hub.close();
            throw e;
        }
    }

    private WebServer start(ChatConfig config, Duration helidonIdle) {
        UpgradeHeaderWorkaround.materialize();
        return WebServer.builder()
                    .address(config.host())
                    .port(config.port())
                    .backlog(4096)
                    // java.net.Socket (one 8 KiB read buffer) rather than Helidon's NIO socket (8 KiB read + 8 KiB
                    // write buffers): measured 8 KB less heap per idle connection; both block a virtual thread alike
                    .useNio(false)
                .connectionOptions(o -> o.tcpNoDelay(true)) // small frames go out at once (no Nagle + delayed ACK)
                    .shutdownHook(false)
                    .shutdownGracePeriod(Duration.ofMillis(500))
                    .idleConnectionTimeout(helidonIdle)
                    .idleConnectionPeriod(helidonIdle)
                    .addProtocol(WsConfig.builder().name("websocket").maxFrameLength(config.maxFrameBytes()).build())
                    .addRouting(WsRouting.builder().endpoint(config.path(),
                            () -> new ChatWsConnection(this, hub, config)))
                    .routing(http -> http.any(this::servePage))
                    .build()
                    .start();
    }

    /** Plain HTTP requests (not the WebSocket upgrade): the browser page, 404 or 405, as every model answers. */
    private void servePage(ServerRequest req, ServerResponse res) {
        String query = req.query().rawValue();
        String target = req.prologue().uriPath().rawPath() + (query.isEmpty() ? "" : "?" + query);
        WebPage.Response page = WebPage.of(config.path()).respond(req.prologue().method().text(), target);
        res.status(page.status());
        page.headers().forEach(res::header);
        res.send(page.body());
    }

    /**
     * Starts a server; returns once it accepts connections.
     *
     * @throws IllegalStateException when it cannot start (the port is taken, the address is not local)
     */
    public static HelidonChatServer start(ChatConfig config) {
        Objects.requireNonNull(config, "config");
        try {
            return new HelidonChatServer(config);
        } catch (RuntimeException e) {
            throw ChatServer.cannotStart(config, e);
        }
    }

    @Override
    public ChatModel model() {
        return ChatModel.VTHREADS;
    }

    @Override
    public ChatConfig config() {
        return config;
    }

    @Override
    public int port() {
        return webServer.port();
    }

    @Override
    public ChatStats stats() {
        return hub.stats();
    }

    /** A connection is being upgraded; false when the server is closing (the upgrade must be refused). */
    boolean register(ChatWsConnection c) {
        connections.add(c);
        if (closing.get()) {
            connections.remove(c);
            return false;
        }
        return true;
    }

    /** A connection has closed and its writer and watcher threads have ended (or are ending). */
    void unregister(ChatWsConnection c) {
        connections.remove(c);
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
            hub.shutdown();                                    // 1001 behind every queue
            while (!connections.isEmpty() && System.nanoTime() - deadline < 0) {
                Thread.sleep(5);                               // drain until the deadline
            }
            drainedInTime = connections.isEmpty();
            for (ChatWsConnection c : connections) {           // cut off the rest
                c.cut();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connections.forEach(ChatWsConnection::cut);
        } finally {
            webServer.stop();                                  // closes the listener, ends its accept thread
            IdleTimerWorkaround.cancel(idleTimer);             // Helidon 4.5.0 leaves this thread running
            awaitConnectionsGone(TimeUnit.SECONDS.toNanos(5)); // their readers, writers and watchers end
            hub.close();
            closed.countDown();
        }
        return drainedInTime;
    }

    private void awaitConnectionsGone(long nanos) {
        long deadline = System.nanoTime() + nanos;
        try {
            while (!connections.isEmpty() && System.nanoTime() - deadline < 0) {
                Thread.sleep(5);
            }
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
