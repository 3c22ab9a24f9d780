package dev.conclab.crawl.crawler;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Fetches one URL with the crawl's policy — robots.txt, per-host politeness, redirects followed by hand with a limit
 * and loop detection, retries with exponential back-off and jitter on 5xx, timeouts and connection errors, 429 honoured
 * through Retry-After, a body-size cap — in two flavours over one {@link HttpClient}: {@link #fetchBlocking} (for the
 * thread models) and {@link #fetchAsync} (no thread waits). Both apply the same decisions ({@link #decide}).
 * Thread-safe.
 */
final class HttpFetcher {

    private final HttpClient client;
    private final CrawlConfig config;
    private final HostRateLimiter limiter;
    private final CrawlStats stats;
    private final CappedBody bodyHandler;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final ConcurrentHashMap<String, CompletableFuture<Robots>> robots = new ConcurrentHashMap<>();

    /** {@code timer} runs the async flavour's waits; the thread models may pass null. */
    HttpFetcher(HttpClient client, CrawlConfig config, HostRateLimiter limiter, CrawlStats stats,
                java.util.concurrent.ScheduledExecutorService timer) {
        this.timer = timer;
        this.client = client;
        this.config = config;
        this.limiter = limiter;
        this.stats = stats;
        this.bodyHandler = new CappedBody(config.maxBodyBytes());
    }

    /** One URL's progress through its redirects and retries. Confined to one fetch at a time. */
    private static final class Attempt {
        final URI start;
        final boolean robotsFile;
        URI current;
        int sent;
        int redirects;
        int retries;
        int throttled;
        final Set<URI> chain = new HashSet<>();

        Attempt(URI start, boolean robotsFile) {
            this.start = start;
            this.robotsFile = robotsFile;
            this.current = start;
            chain.add(start);
        }
    }

    /** What to do after a response or an error. */
    private sealed interface Next {}

    private record Done(FetchResult result) implements Next {}

    private record Again(long delayNanos) implements Next {}

    // ---------------------------------------------------------------- blocking

    FetchResult fetchBlocking(URI uri) throws InterruptedException {
        return fetchBlocking(new Attempt(uri, false));
    }

    private FetchResult fetchBlocking(Attempt a) throws InterruptedException {
        while (true) {
            if (!a.robotsFile && config.obeyRobots() && !robotsBlocking(a.current).allows(pathOf(a.current))) {
                return new FetchResult.Failure(a.start, ErrorKind.ROBOTS_DISALLOWED, a.current.toString(), a.sent);
            }
            limiter.acquire(UrlNormalizer.hostKey(a.current)); // admitted now: send at once
            long t0 = System.nanoTime();
            a.sent++;
            Next next;
            try {
                HttpResponse<CappedBody.Body> response = client.send(request(a.current), bodyHandler);
                stats.latency(System.nanoTime() - t0);
                next = decide(a, response, null);
            } catch (IOException e) {
                stats.latency(System.nanoTime() - t0);
                next = decide(a, null, e);
            }
            switch (next) {
                case Done d -> {
                    return d.result();
                }
                case Again g -> sleepNanos(g.delayNanos());
            }
        }
    }

    private Robots robotsBlocking(URI uri) throws InterruptedException {
        String key = UrlNormalizer.hostKey(uri);
        CompletableFuture<Robots> mine = new CompletableFuture<>();
        CompletableFuture<Robots> existing = robots.putIfAbsent(key, mine);
        if (existing == null) {
            try {
                mine.complete(robotsFrom(fetchBlocking(new Attempt(URI.create(key + "/robots.txt"), true))));
            } catch (InterruptedException | RuntimeException e) {
                robots.remove(key, mine);
                mine.completeExceptionally(e);
                throw e;
            }
            return mine.join();
        }
        try {
            return existing.get();
        } catch (ExecutionException e) {
            return Robots.DISALLOW_ALL;
        }
    }

    private static void sleepNanos(long nanos) throws InterruptedException {
        if (nanos > 0) {
            TimeUnit.NANOSECONDS.sleep(nanos);
        }
    }

    // ---------------------------------------------------------------- async

    CompletableFuture<FetchResult> fetchAsync(URI uri) {
        return step(new Attempt(uri, false));
    }

    private CompletableFuture<FetchResult> step(Attempt a) {
        CompletableFuture<Robots> rules = a.robotsFile || !config.obeyRobots()
                ? CompletableFuture.completedFuture(Robots.ALLOW_ALL) : robotsAsync(a.current);
        return rules.thenCompose(r -> {
            if (!r.allows(pathOf(a.current))) {
                return CompletableFuture.completedFuture((FetchResult) new FetchResult.Failure(
                        a.start, ErrorKind.ROBOTS_DISALLOWED, a.current.toString(), a.sent));
            }
            return limiter.acquireAsync(UrlNormalizer.hostKey(a.current)).thenCompose(admitted -> {
                long t0 = System.nanoTime();
                a.sent++;
                return client.sendAsync(request(a.current), bodyHandler).handle((response, error) -> {
                    stats.latency(System.nanoTime() - t0);
                    return decide(a, response, error == null ? null : unwrap(error));
                }).thenCompose(next -> switch (next) {
                    case Done d -> CompletableFuture.completedFuture(d.result());
                    case Again g -> after(g.delayNanos()).thenCompose(x -> step(a));
                });
            });
        });
    }

    private CompletableFuture<Robots> robotsAsync(URI uri) {
        String key = UrlNormalizer.hostKey(uri);
        CompletableFuture<Robots> mine = new CompletableFuture<>();
        CompletableFuture<Robots> existing = robots.putIfAbsent(key, mine);
        if (existing != null) {
            return existing;
        }
        step(new Attempt(URI.create(key + "/robots.txt"), true)).whenComplete((result, error) -> {
            if (error != null) {
                robots.remove(key, mine);
                mine.completeExceptionally(error);
            } else {
                mine.complete(robotsFrom(result));
            }
        });
        return mine;
    }

    /** Completes after {@code nanos} on the fetcher's own timer (not the JDK's shared delayer, which never ends). */
    private CompletableFuture<Void> after(long nanos) {
        if (nanos <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            timer.schedule(() -> done.complete(null), nanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            done.cancel(false);
        }
        return done;
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    // ---------------------------------------------------------------- shared policy

    private HttpRequest request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(config.readTimeout()).header("User-Agent", config.userAgent())
                .GET().build();
    }

    private Robots robotsFrom(FetchResult result) {
        return switch (result) {
            case FetchResult.Page p -> Robots.parse(new String(p.body(), StandardCharsets.UTF_8), config.userAgent());
            case FetchResult.Failure f when f.kind() == ErrorKind.HTTP_4XX -> Robots.ALLOW_ALL;
            case FetchResult.Failure f -> Robots.DISALLOW_ALL;
        };
    }

    /** The one place where a response or an error becomes a result, a retry or a redirect. */
    private Next decide(Attempt a, HttpResponse<CappedBody.Body> response, Throwable error) {
        if (error != null) {
            ErrorKind kind = error instanceof HttpTimeoutException ? ErrorKind.TIMEOUT
                    : error instanceof ConnectException ? ErrorKind.CONNECT : ErrorKind.IO;
            if (error instanceof java.util.concurrent.CancellationException) {
                return new Done(new FetchResult.Failure(a.start, ErrorKind.IO, "cancelled", a.sent));
            }
            return retry(a, kind, String.valueOf(error.getMessage()));
        }
        int status = response.statusCode();
        if (status / 100 == 2) {
            CappedBody.Body body = response.body();
            if (body.rejected() != null) {
                return new Done(new FetchResult.Failure(a.start, body.rejected(), a.current.toString(), a.sent));
            }
            return new Done(new FetchResult.Page(a.start, a.current, status, body.bytes(), a.sent));
        }
        if (status / 100 == 3 && status != 304 && response.headers().firstValue("location").isPresent()) {
            return redirect(a, response.headers().firstValue("location").get());
        }
        if (status == 429) {
            if (++a.throttled > config.maxThrottled()) {
                return new Done(new FetchResult.Failure(a.start, ErrorKind.RATE_LIMITED, "429 " + a.current, a.sent));
            }
            stats.throttled();
            long wait = retryAfterNanos(response.headers().firstValue("retry-after").orElse(null));
            limiter.pause(UrlNormalizer.hostKey(a.current), wait);
            return new Again(wait);
        }
        if (status / 100 == 5) {
            return retry(a, ErrorKind.HTTP_5XX, status + " " + a.current);
        }
        return new Done(new FetchResult.Failure(a.start, ErrorKind.HTTP_4XX, status + " " + a.current, a.sent));
    }

    private Next retry(Attempt a, ErrorKind kind, String detail) {
        if (++a.retries > config.maxRetries()) {
            return new Done(new FetchResult.Failure(a.start, kind, detail, a.sent));
        }
        stats.retried();
        // Exponential back-off with "equal jitter": half fixed, half random, so retries of one burst spread out.
        long ceiling = Math.min(config.backoffMax().toNanos(),
                config.backoffBase().toNanos() << Math.min(30, a.retries - 1));
        return new Again(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
    }

    private Next redirect(Attempt a, String location) {
        URI next;
        switch (UrlNormalizer.normalize(a.current, location)) {
            case UrlNormalizer.Rejected r -> {
                return new Done(new FetchResult.Failure(a.start, r.kind(), "redirect to " + location, a.sent));
            }
            case UrlNormalizer.Ok ok -> next = ok.uri();
        }
        if (!a.chain.add(next)) {
            return new Done(new FetchResult.Failure(a.start, ErrorKind.REDIRECT_LOOP, next.toString(), a.sent));
        }
        if (++a.redirects > config.maxRedirects()) {
            return new Done(new FetchResult.Failure(a.start, ErrorKind.TOO_MANY_REDIRECTS, next.toString(), a.sent));
        }
        if (config.sameHostOnly() && !UrlNormalizer.hostKey(next).equals(UrlNormalizer.hostKey(a.start))) {
            return new Done(new FetchResult.Failure(a.start, ErrorKind.EXTERNAL_HOST, next.toString(), a.sent));
        }
        a.current = next;
        return new Again(0);
    }

    /** Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3); 1 s when absent or unreadable. */
    private long retryAfterNanos(String value) {
        long max = config.maxRetryAfter().toNanos();
        if (value == null) {
            return Math.min(max, TimeUnit.SECONDS.toNanos(1));
        }
        try {
            return Math.min(max, TimeUnit.SECONDS.toNanos(Math.max(0, Long.parseLong(value.strip()))));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME);
                long millis = at.toInstant().toEpochMilli() - System.currentTimeMillis();
                return Math.min(max, TimeUnit.MILLISECONDS.toNanos(Math.max(0, millis)));
            } catch (RuntimeException unreadable) {
                return Math.min(max, TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    private static String pathOf(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }
}
