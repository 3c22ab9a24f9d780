package dev.conclab.crawl.crawler;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one HTTP client configuration of every model (HTTP/1.1, redirects never followed by the client), on an executor
 * the crawl owns: {@link #close()} shuts the client and its executor down and joins every thread they used, so that no
 * {@code HttpClient-N-Worker} thread outlives the crawl (the client's default executor lets its threads finish after
 * {@link HttpClient#awaitTermination} returns). Thread-safe.
 */
final class Clients implements AutoCloseable {

    private static final AtomicInteger IDS = new AtomicInteger();

    final HttpClient client;
    private final ExecutorService executor;
    private final OwnedThreads threads;

    private Clients(CrawlConfig config) {
        this.threads = new OwnedThreads("crawl-http-" + IDS.incrementAndGet() + "-");
        // A cached pool, as the client's default: the client's own completions run here.
        this.executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                threads);
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)   // the crawler follows them, to count and limit them
                .connectTimeout(config.connectTimeout())
                .executor(executor)
                .build();
    }

    static Clients create(CrawlConfig config) {
        return new Clients(config);
    }

    /** Aborts the exchanges in flight. */
    void shutdownNow() {
        client.shutdownNow();
    }

    /** Closes the client, then its executor, and joins every thread they started. */
    @Override
    public void close() {
        boolean interrupted = Thread.interrupted();
        client.shutdown();
        try {
            if (!client.awaitTermination(Duration.ofSeconds(10))) {
                client.shutdownNow();
                client.awaitTermination(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            client.shutdownNow();
            interrupted = true;
        }
        executor.shutdown();
        if (!threads.joinAll(Duration.ofSeconds(10))) {
            executor.shutdownNow();
            threads.joinAll(Duration.ofSeconds(5));
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
