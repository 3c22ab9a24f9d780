package dev.conclab.lab.experiments.network;

import dev.conclab.lab.experiments.support.CpuWork;
import io.javalin.Javalin;
import io.javalin.http.Context;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP API on Javalin 7 (Jetty 12.1), on a free loopback port, served by one of three {@link Model}s:
 * <ul>
 *   <li>{@code GET /io?ms=N} waits N ms and answers {@code waited}: a blocking {@link Thread#sleep} on the handler's
 *       thread in {@link Model#POOL} and {@link Model#VIRTUAL}; in {@link Model#ASYNC} the handler returns at once
 *       with a {@link CompletableFuture} that the event thread completes N ms later, so no thread waits.</li>
 *   <li>{@code GET /cpu?ms=N} burns about N ms of CPU on the handler's thread (calibrated on one thread), in every
 *       model: CPU work has no asynchronous form.</li>
 *   <li>{@code GET /io-blocking-in-async?ms=N} ({@link Model#ASYNC} only) — <b>Broken</b>: the same wait done as a
 *       blocking sleep in a task on the event thread, the mistake of calling {@code time.sleep} inside an
 *       {@code async def}. While it sleeps, no other future is completed.</li>
 * </ul>
 * It counts what the models differ in: the peak number of handlers running at once (a handler runs from its call
 * until it returns; an async handler returns before its response is ready), the peak number of requests in flight
 * (from the handler's call until its response is complete), and the distinct threads that ran handlers.
 *
 * <p><b>Thread safety:</b> the counters are safe to read from any thread. {@link #close()} stops Jetty, its thread
 * pool and the event thread, and waits for them; it is idempotent.
 */
final class ApiServer implements AutoCloseable {

    /** How the API's handlers run. */
    enum Model {
        /** A fixed pool of platform threads (Jetty's {@link QueuedThreadPool} with a small maximum); handlers block. */
        POOL("fixed platform pool"),
        /** A virtual thread per task (Javalin's {@code useVirtualThreads}); handlers block, carriers do not. */
        VIRTUAL("virtual threads"),
        /** The same small platform pool as {@link #POOL}, with {@code ctx.future} handlers that never block it. */
        ASYNC("async handlers (ctx.future)");

        final String label;

        Model(String label) {
            this.label = label;
        }
    }

    /** The listen backlog: room for every client of a run to connect at once. */
    private static final int ACCEPT_QUEUE = 1024;

    private final Model model;
    private final Javalin app;
    private final ScheduledExecutorService eventThread;
    private final long roundsPerMs;
    private final AtomicInteger runningHandlers = new AtomicInteger();
    private final AtomicInteger peakHandlers = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private final Set<Long> handlerThreads = ConcurrentHashMap.newKeySet();
    private final Set<Long> completionThreads = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ApiServer(Model model, int poolThreads, long roundsPerMs) {
        this.model = model;
        this.roundsPerMs = roundsPerMs;
        this.eventThread = model == Model.ASYNC
                ? Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("api-event-thread")
                .daemon(true).unstarted(r))
                : null;
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            switch (model) {
                case POOL, ASYNC -> {
                    QueuedThreadPool pool = new QueuedThreadPool(poolThreads, poolThreads);
                    pool.setName("api-" + model.name().toLowerCase());
                    pool.setReservedThreads(0); // every thread the acceptor and selector do not lease runs handlers
                    cfg.jetty.threadPool = pool;
                }
                case VIRTUAL -> cfg.concurrency.useVirtualThreads = true;
            }
            // Our own connector, for its accept queue: a burst of connects beyond the default backlog (50) would
            // be dropped and retried by TCP a second later, which is the kernel's latency, not the model's.
            cfg.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(InetAddress.getLoopbackAddress().getHostAddress());
                connector.setPort(0);
                connector.setAcceptQueueSize(ACCEPT_QUEUE);
                return connector;
            });
            cfg.routes.get("/io", this::io);
            cfg.routes.get("/cpu", this::cpu);
            if (model == Model.ASYNC) {
                cfg.routes.get("/io-blocking-in-async", this::ioBlockingInAsync);
            }
        });
    }

    /**
     * Starts the API on a free loopback port.
     *
     * @param poolThreads the maximum (and minimum) size of Jetty's platform pool for {@link Model#POOL} and
     *                    {@link Model#ASYNC}, acceptor and selector included; ignored for {@link Model#VIRTUAL}
     * @param roundsPerMs {@link CpuWork} rounds per ms of CPU, for {@code /cpu}
     */
    static ApiServer start(Model model, int poolThreads, long roundsPerMs) {
        ApiServer server = new ApiServer(model, poolThreads, roundsPerMs);
        try {
            server.app.start();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    int port() {
        return app.port();
    }

    Model model() {
        return model;
    }

    /** The most handlers that were running (called, not yet returned) at one time. */
    int peakHandlers() {
        return peakHandlers.get();
    }

    /** The most requests in flight (handler called, response not yet complete) at one time. */
    int peakInFlight() {
        return peakInFlight.get();
    }

    /** How many distinct threads ran handlers. */
    int handlerThreads() {
        return handlerThreads.size();
    }

    /** How many distinct threads completed async responses ({@link Model#ASYNC} only). */
    int completionThreads() {
        return completionThreads.size();
    }

    /** Forgets the peaks and thread sets, e.g. after a warm-up. */
    void resetCounters() {
        peakHandlers.set(runningHandlers.get());
        peakInFlight.set(inFlight.get());
        handlerThreads.clear();
        completionThreads.clear();
    }

    private void io(Context ctx) throws InterruptedException {
        long ms = millis(ctx);
        boolean async = model == Model.ASYNC;
        enter();
        try {
            if (async) {
                ctx.future(() -> {
                    CompletableFuture<String> waited = new CompletableFuture<>();
                    eventThread.schedule(() -> waited.complete("waited"), ms, TimeUnit.MILLISECONDS);
                    return respond(ctx, waited);
                });
            } else {
                Thread.sleep(ms); // blocks this handler's thread for the whole wait
                ctx.result("waited");
            }
        } finally {
            if (!async) {
                inFlight.decrementAndGet();
            }
            exit();
        }
    }

    private void cpu(Context ctx) {
        long ms = millis(ctx);
        enter();
        try {
            CpuWork.consume(ms * roundsPerMs);
            ctx.result("burned");
        } finally {
            inFlight.decrementAndGet();
            exit();
        }
    }

    /** Broken: a blocking sleep inside a task of the event thread, which every async response depends on. */
    private void ioBlockingInAsync(Context ctx) {
        long ms = millis(ctx);
        enter();
        try {
            ctx.future(() -> respond(ctx, CompletableFuture.supplyAsync(() -> {
                sleepOnEventThread(ms); // Broken: the event thread can complete nothing else meanwhile
                return "slept on the event thread";
            }, eventThread)));
        } finally {
            exit();
        }
    }

    private CompletableFuture<Void> respond(Context ctx, CompletableFuture<String> body) {
        return body.thenAccept(text -> {
            completionThreads.add(Thread.currentThread().threadId());
            ctx.result(text);
            inFlight.decrementAndGet();
        });
    }

    private void enter() {
        handlerThreads.add(Thread.currentThread().threadId());
        peakHandlers.accumulateAndGet(runningHandlers.incrementAndGet(), Math::max);
        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    }

    private void exit() {
        runningHandlers.decrementAndGet();
    }

    private static long millis(Context ctx) {
        String raw = ctx.queryParam("ms");
        long ms;
        try {
            ms = raw == null ? 0 : Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new io.javalin.http.BadRequestResponse("ms must be an integer, got " + raw);
        }
        if (ms < 0 || ms > 60_000) {
            throw new io.javalin.http.BadRequestResponse("ms must lie in 0..60000, got " + ms);
        }
        return ms;
    }

    /** Sleeps on the calling thread; {@link #close()} interrupts it, which fails the request. */
    private static void sleepOnEventThread(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CompletionException("the server is closing", e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            app.stop();
        } finally {
            if (eventThread != null) {
                eventThread.shutdownNow();
                try {
                    if (!eventThread.awaitTermination(5, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the API's event thread did not stop within 5 s");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
