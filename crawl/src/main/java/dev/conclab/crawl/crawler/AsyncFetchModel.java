package dev.conclab.crawl.crawler;

import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The async model: each fetch is a chain of stages over {@link java.net.http.HttpClient#sendAsync}; waits
 * (politeness, back-off, Retry-After) are timer events or pending futures, so no thread is held by a fetch in flight.
 * The parse runs on a pool of one thread per core. Thread-safe.
 */
final class AsyncFetchModel implements FetchModel {

    private final Clients clients;
    private final HttpFetcher fetcher;
    private final ScheduledThreadPoolExecutor timer;
    /**
     * Where pages are parsed. Not the thread that completes the exchange: the JDK client hands completions to the
     * common pool, whose parallelism is cores − 1 (one thread on two cores), which serialized every parse.
     */
    private final ThreadPoolExecutor parsers;
    private final OwnedThreads threads = new OwnedThreads("crawl-timer-");
    private final OwnedThreads parseThreads = new OwnedThreads("crawl-parse-");
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();

    AsyncFetchModel(CrawlConfig config, HostRateLimiter limiter, CrawlStats stats) {
        this.clients = Clients.onVirtualThreads(config);  // no OS thread per exchange: that is the async model's point
        this.timer = new ScheduledThreadPoolExecutor(1, threads);
        timer.setRemoveOnCancelPolicy(true);
        this.fetcher = new HttpFetcher(clients.client, config, limiter, stats, timer);
        int n = Runtime.getRuntime().availableProcessors();
        this.parsers = new ThreadPoolExecutor(n, n, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                parseThreads);
    }

    @Override
    public ModelKind kind() {
        return ModelKind.ASYNC;
    }

    @Override
    public <T> CompletableFuture<T> fetch(URI uri, Function<? super FetchResult, ? extends T> andThen) {
        CompletableFuture<FetchResult> exchange = fetcher.fetchAsync(uri);
        inFlight.add(exchange);
        exchange.whenComplete((r, e) -> inFlight.remove(exchange));
        return exchange.thenApplyAsync(andThen, parsers);
    }

    @Override
    public void abort() {
        inFlight.forEach(f -> f.cancel(true));
        timer.shutdownNow();
        parsers.shutdownNow();
        clients.shutdownNow();
    }

    @Override
    public void close() {
        timer.shutdown();
        parsers.shutdown();
        clients.close();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
            parsers.awaitTermination(30, TimeUnit.SECONDS);
            threads.joinAll(java.time.Duration.ofSeconds(5));
            parseThreads.joinAll(java.time.Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
