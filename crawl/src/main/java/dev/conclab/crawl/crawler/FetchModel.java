package dev.conclab.crawl.crawler;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * How fetches are executed: {@link ModelKind#PLATFORM} runs each fetch on a fixed pool of platform threads,
 * {@link ModelKind#VIRTUAL} on a new virtual thread, {@link ModelKind#ASYNC} as a chain of stages over the async
 * HTTP client with no thread waiting. All three apply the same fetch policy. Thread-safe. Concurrency is bounded by
 * the crawl, not here (the platform pool's size is the crawl's concurrency, so it never queues).
 */
public sealed interface FetchModel extends AutoCloseable permits ThreadFetchModel, AsyncFetchModel {

    ModelKind kind();

    /**
     * Fetches {@code uri}, then applies {@code andThen} to the result on the thread that fetched it (the parse of a
     * page runs where its fetch ran). The future never completes exceptionally except by cancellation or an error
     * thrown by {@code andThen}.
     */
    <T> CompletableFuture<T> fetch(URI uri, Function<? super FetchResult, ? extends T> andThen);

    /** Aborts the fetches in flight (interrupts their threads, cancels their exchanges). */
    void abort();

    /** Waits for the fetches in flight and releases every thread and connection. Idempotent. */
    @Override
    void close();
}
