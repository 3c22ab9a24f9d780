package dev.conclab.crawl.crawler;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The blocking models: each fetch runs start to finish on one thread ({@link java.net.http.HttpClient#send}, parked
 * for politeness and back-off) — a fixed pool of platform threads, or one virtual thread per fetch. Thread-safe.
 */
final class ThreadFetchModel implements FetchModel {

    private final ModelKind kind;
    private final Clients clients;
    private final HttpFetcher fetcher;
    private final ExecutorService threads;
    private final OwnedThreads platformThreads = new OwnedThreads("crawl-p-");

    ThreadFetchModel(ModelKind kind, CrawlConfig config, HostRateLimiter limiter, CrawlStats stats) {
        if (kind == ModelKind.ASYNC) {
            throw new IllegalArgumentException("the async model is not a thread model");
        }
        this.kind = kind;
        this.clients = kind == ModelKind.PLATFORM
                ? Clients.onPlatformThreads(config)
                : Clients.onVirtualThreads(config);   // no OS thread per exchange beside the virtual fetchers
        this.fetcher = new HttpFetcher(clients.client, config, limiter, stats, null);
        this.threads = kind == ModelKind.PLATFORM
                ? Executors.newFixedThreadPool(config.concurrency(), platformThreads)
                : Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("crawl-v-", 0).factory());
    }

    @Override
    public ModelKind kind() {
        return kind;
    }

    @Override
    public <T> CompletableFuture<T> fetch(URI uri, Function<? super FetchResult, ? extends T> andThen) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            threads.execute(() -> {
                try {
                    result.complete(andThen.apply(fetcher.fetchBlocking(uri)));
                } catch (InterruptedException e) {
                    result.cancel(false);
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException stopped) {
            result.cancel(false);
        }
        return result;
    }

    @Override
    public void abort() {
        threads.shutdownNow();
        clients.shutdownNow();
    }

    @Override
    public void close() {
        threads.shutdown();
        try {
            if (!threads.awaitTermination(30, TimeUnit.SECONDS)) {
                threads.shutdownNow();
                threads.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
        platformThreads.joinAll(java.time.Duration.ofSeconds(5));
        clients.close();
    }
}
