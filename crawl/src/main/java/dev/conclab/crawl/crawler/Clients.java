package dev.conclab.crawl.crawler;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one HTTP client configuration of every model (HTTP/1.1, redirects never followed by the client), on an executor
 * the crawl owns: {@link #close()} shuts the client and its executor down and joins every thread they used, so that no
 * {@code HttpClient-N-Worker} thread outlives the crawl (the client's default executor lets its threads finish after
 * {@link HttpClient#awaitTermination} returns). The client's own tasks (completions, body subscribers) run on a cached
 * pool of platform threads, as with the JDK's default, or on virtual threads, so that a virtual-thread or async
 * crawl starts no OS thread per exchange in flight. Thread-safe.
 */
final class Clients implements AutoCloseable {

    private static final AtomicInteger IDS = new AtomicInteger();

    final HttpClient client;
    private final ExecutorService executor;
    private final OwnedThreads threads;

    private Clients(CrawlConfig config, boolean virtualWorkers) {
        String prefix = "crawl-http-" + IDS.incrementAndGet() + "-";
        if (virtualWorkers) {
            this.threads = null;    // virtual threads: the executor's close() waits for every one of them
            this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(prefix, 0).factory());
        } else {
            this.threads = new OwnedThreads(prefix);
            // A cached pool, as the client's default: the client's own completions run here.
            this.executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                    new SynchronousQueue<>(), threads);
        }
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)   // the crawler follows them, to count and limit them
                .connectTimeout(config.connectTimeout())
                .executor(executor)
                .build();
    }

    /** A client whose own tasks run on a cached pool of platform threads, like the JDK's default executor. */
    static Clients onPlatformThreads(CrawlConfig config) {
        return new Clients(config, false);
    }

    /** A client whose own tasks run on virtual threads. */
    static Clients onVirtualThreads(CrawlConfig config) {
        return new Clients(config, true);
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
        if (threads == null) {
            try {
                if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                    executor.shutdownNow();
                    executor.awaitTermination(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                executor.shutdownNow();
                interrupted = true;
            }
        } else if (!threads.joinAll(Duration.ofSeconds(10))) {
            executor.shutdownNow();
            threads.joinAll(Duration.ofSeconds(5));
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
