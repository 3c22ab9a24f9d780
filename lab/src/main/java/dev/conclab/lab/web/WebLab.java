package dev.conclab.lab.web;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogOverview;
import dev.conclab.lab.catalog.CatalogSearch;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.jobs.JobsReader;
import dev.conclab.lab.jobs.JobsStores;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Handler;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinBindException;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The web lab: a Javalin server that serves the front end from the classpath folder {@code /web} at {@code /} and
 * the JSON API under {@code /api} (see the package documentation), over one catalog, one list of experiments and
 * one result store.
 *
 * <p>Static files come from the class path folder {@code /web} only (and {@code /webjars/...} from the webjars on
 * the class path, when there are any). Jetty refuses {@code ..} segments that climb above the root (400) and encoded
 * separators; an encoded {@code %2e%2e} is decoded and refused the same way (tested).
 *
 * <p>Experiment runs and system runs (crawl, etl) share one cap on concurrent runs ({@link RunSlots}).
 *
 * <p><b>Thread safety:</b> safe for concurrent use. Requests run on virtual threads; a server-sent event stream holds
 * one for as long as its run lasts. {@link #start} returns once the server listens; {@link #close()} refuses new
 * runs, cancels the running ones (system runs too: test sites closed, temporary directories deleted) and waits for them to stop, then stops the server and its threads, and is
 * idempotent.
 */
public final class WebLab implements AutoCloseable {

    /** The address the lab listens on unless told otherwise: loopback only. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** The port the lab listens on unless told otherwise. */
    public static final int DEFAULT_PORT = 8000;
    /** How long closing waits for the event streams to send their last event. */
    static final Duration STREAM_GRACE = Duration.ofSeconds(5);

    private final Javalin app;
    private final RunManager runs;
    private final SystemRuns systemRuns;
    private final OpenStreams streams;
    private final ChatApi chat;
    private final String host;
    private final boolean loopback;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private WebLab(Javalin app, RunManager runs, SystemRuns systemRuns, OpenStreams streams, ChatApi chat,
                   String host, boolean loopback) {
        this.systemRuns = systemRuns;
        this.streams = streams;
        this.chat = chat;
        this.app = app;
        this.runs = runs;
        this.host = host;
        this.loopback = loopback;
    }

    /** The default cap on concurrent runs: one per core. */
    public static int defaultRunCap() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Starts the lab's own catalog, experiments and store on {@code host:port}, with the default run cap and the
     * jobs system's stores where the CLI finds them ({@link JobsStores#defaults()}).
     */
    public static WebLab start(Lab lab, String host, int port) {
        return start(lab, host, port, JobsStores.defaults());
    }

    /** Starts the lab's own catalog, experiments and store, with the default run cap and these jobs stores. */
    public static WebLab start(Lab lab, String host, int port, JobsStores jobs) {
        return start(lab.catalog(), lab.experiments(), lab.store(), host, port, defaultRunCap(), jobs);
    }

    /** {@link #start(Catalog, List, ResultStore, String, int, int, JobsStores)} with the CLI's jobs stores. */
    public static WebLab start(Catalog catalog, List<Experiment> experiments, ResultStore store, String host,
                               int port, int maxRuns) {
        return start(catalog, experiments, store, host, port, maxRuns, JobsStores.defaults());
    }

    /**
     * Starts a web lab.
     *
     * @param experiments the experiments that can be run and shown, in listing order; may include experiments no
     *                    card cites (tests use that)
     * @param port        the port, or 0 for a free one ({@link #port()} tells which)
     * @param maxRuns     at most this many runs at once (at least 1)
     * @param jobs        where the jobs system's page reads its queues and DAG runs (read only; never created)
     * @throws CannotListenException when the host is unknown or the port is taken
     */
    public static WebLab start(Catalog catalog, List<Experiment> experiments, ResultStore store, String host,
                               int port, int maxRuns, JobsStores jobs) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new CannotListenException("unknown host '" + host + "' (use an address such as 127.0.0.1)",
                    false);
        }
        Map<String, Experiment> byId = new LinkedHashMap<>();
        experiments.forEach(e -> byId.put(e.id(), e));
        if (inUse(host, port)) {
            throw new CannotListenException("port " + port + " on " + host + " is in use", true);
        }
        RunSlots slots = new RunSlots(maxRuns);
        RunManager runs = new RunManager(new Runner(Optional.of(store)), byId, slots);
        SystemRuns systemRuns = new SystemRuns(List.of(new CrawlSystemJob(),
                new EtlSystemJob(Runtime.getRuntime().availableProcessors())), slots, SystemRuns.TIMEOUT);
        OpenStreams streams = new OpenStreams();
        ChatApi chat = new ChatApi(new ChatHost(ChatHost.DEFAULT_IDLE_LIMIT), loopback);
        Javalin app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.staticFiles.add("/web", Location.CLASSPATH);
            if (WebLab.class.getResource("/META-INF/resources/webjars") != null) {
                cfg.staticFiles.enableWebjars(); // /webjars/... once a webjar is on the class path
            }
            routes(cfg.routes, catalog, List.copyOf(experiments), byId, store, runs, streams,
                    new RequestGuard(loopback), new JobsApi(new JobsReader(jobs)), systemRuns, chat);
        });
        try {
            app.start(host, port);
        } catch (RuntimeException e) {
            runs.close();
            systemRuns.close();
            app.stop();
            boolean taken = e instanceof JavalinBindException && String.valueOf(e.getMessage()).contains("in use");
            throw taken ? new CannotListenException("port " + port + " on " + host + " is in use", true)
                    : new CannotListenException("cannot listen on " + host + ":" + port + ": " + e.getMessage(),
                    e instanceof JavalinBindException);
        }
        return new WebLab(app, runs, systemRuns, streams, chat, host, loopback);
    }

    /**
     * Whether another program listens on {@code host:port}, found by binding it for a moment, so that the common
     * case gets one clear line instead of Javalin's logged start-up failure. Jetty's own bind still decides.
     */
    private static boolean inUse(String host, int port) {
        if (port == 0) {
            return false;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return false;
        } catch (BindException e) {
            return String.valueOf(e.getMessage()).contains("in use");
        } catch (IOException e) {
            return false;
        }
    }

    /** The API's routes, one handler per concern; any other path under {@code /api/} is a JSON 404. */
    private static void routes(RoutesConfig routes, Catalog catalog, List<Experiment> experiments,
                               Map<String, Experiment> byId, ResultStore store, RunManager runs, OpenStreams streams,
                               RequestGuard guard, JobsApi jobs, SystemRuns systemRuns, ChatApi chat) {
        CatalogHandler catalogs = new CatalogHandler(CatalogOverview.of(catalog, byId),
                new CatalogSearch(catalog, byId));
        CardHandler cards = new CardHandler(catalog, byId, store);
        ExperimentHandler experimentHandler = new ExperimentHandler(catalog, experiments, byId, store);
        ResultHandler results = new ResultHandler(byId, store);
        SystemHandler systems = new SystemHandler();
        RunHandler runHandler = new RunHandler(runs, streams);
        SystemRunHandler systemRunHandler = new SystemRunHandler(systemRuns, streams, SystemView.all());
        routes.before(SecurityHeaders::apply);
        routes.before(guard::check);
        routes.get("/api/catalog", catalogs::catalog);
        routes.get("/api/search", catalogs::search);
        routes.get("/api/cards/{id}", cards::card);
        routes.get("/api/experiments", experimentHandler::list);
        routes.get("/api/experiments/{id}", experimentHandler::one);
        routes.post("/api/runs", runHandler::start);
        routes.get("/api/runs/{id}", runHandler::show);
        routes.get("/api/runs/{id}/events", runHandler::events);
        routes.delete("/api/runs/{id}", runHandler::cancel);
        routes.get("/api/results/{experiment}/latest", results::latest);
        routes.get("/api/systems", systems::list);
        routes.get("/api/systems/jobs/queues", jobs::queues);
        routes.get("/api/systems/jobs/dags", jobs::dags);
        routes.get("/api/systems/jobs/trace", jobs::trace);
        routes.get("/api/systems/chat/server", chat::show);
        routes.post("/api/systems/chat/server", chat::start);
        routes.delete("/api/systems/chat/server", chat::stop);
        routes.get("/api/systems/{sys}", systemRunHandler::show);
        routes.post("/api/systems/{sys}/runs", systemRunHandler::start);
        routes.get("/api/systems/{sys}/runs/{id}", systemRunHandler::state);
        routes.get("/api/systems/{sys}/runs/{id}/events", systemRunHandler::events);
        routes.delete("/api/systems/{sys}/runs/{id}", systemRunHandler::cancel);
        Handler noSuchEndpoint = ctx -> {
            throw ApiError.notFound("no such endpoint: " + ctx.method().name() + " " + Texts.clip(ctx.path()));
        };
        routes.get("/api/*", noSuchEndpoint);
        routes.post("/api/*", noSuchEndpoint);
        routes.delete("/api/*", noSuchEndpoint);
        routes.exception(ApiError.class, (e, ctx) -> Json.error(ctx, e.status(), e.getMessage()));
        routes.exception(Exception.class, (e, ctx) -> Json.error(ctx, 500, "internal error: " + e));
    }

    /** The port the lab listens on. */
    public int port() {
        return app.port();
    }

    public String host() {
        return host;
    }

    /** Whether the lab listens on a loopback address only. */
    public boolean loopback() {
        return loopback;
    }

    /** The address to open in a browser, e.g. {@code http://127.0.0.1:8000/}. */
    public String address() {
        String name = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "http://" + name + ":" + port() + "/";
    }

    /** The runs of this lab. */
    RunManager runs() {
        return runs;
    }

    /** The system runs of this lab (crawl, etl). */
    SystemRuns systemRuns() {
        return systemRuns;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        stopped.await();
    }

    /**
     * Refuses new runs, cancels the running ones and waits for them to stop, lets each event stream send its last
     * event (for at most {@link #STREAM_GRACE}), stops the chat server it runs (if any), then stops the server.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            runs.close();
            systemRuns.close();
            streams.awaitNone(STREAM_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            chat.close();
            app.stop();
            stopped.countDown();
        }
    }

    /** The lab cannot listen where it was asked to: the port is taken or the host unknown. */
    public static final class CannotListenException extends RuntimeException {

        private final boolean portInUse;

        public CannotListenException(String message, boolean portInUse) {
            super(message);
            this.portInUse = portInUse;
        }

        /** True when another program listens on the port; false when the host is the problem. */
        public boolean portInUse() {
            return portInUse;
        }
    }
}
