package dev.conclab.crawl.crawler;

import org.HdrHistogram.Histogram;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One running crawl. {@link #start} returns at once; a dispatcher thread hands URLs to the {@link FetchModel} while
 * fewer than {@code concurrency} are in flight and the page budget lasts; fetch threads parse pages with jsoup,
 * normalize and dedupe their links and queue the new ones (lowest depth first). The crawl ends when nothing is queued
 * or in flight, when {@link #stop()} is called (graceful: in-flight fetches finish, nothing new starts) or when
 * {@link #cancel()} is called (in-flight fetches are aborted). Either way every thread it started has ended before
 * {@link #await} returns.
 *
 * <p>Thread-safe. Bad input — malformed or non-HTTP links, other hosts, huge or binary pages, redirect loops, errors —
 * is counted by {@link ErrorKind} and skipped; it never ends the crawl.
 */
public final class Crawl implements AutoCloseable {

    private record Task(URI uri, int depth, long seq) {}

    /** A live view for progress lines. */
    public record Progress(long pages, long requests, long errors, int inFlight, int queued, Duration elapsed) {}

    private final CrawlConfig config;
    private final CrawlStats stats = new CrawlStats();
    private final FetchModel model;
    private final Set<String> seedHosts = new HashSet<>();
    private final long startNanos = System.nanoTime();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<Task> frontier = new PriorityQueue<>(
            Comparator.comparingInt(Task::depth).thenComparingLong(Task::seq));
    // Keyed by the normalized URL's string: its hash is cached and cheap, a URI's is recomputed case-insensitively.
    private final Map<String, Integer> queuedDepth = new HashMap<>();
    private final Set<String> seen = new HashSet<>();
    private final Set<URI> fetched = ConcurrentHashMap.newKeySet();
    private final Set<CompletableFuture<?>> running = ConcurrentHashMap.newKeySet();
    private long seq;
    private int inFlight;
    private int dispatched;
    private boolean stopping;
    private volatile boolean cancelled;

    private final Thread dispatcher;
    private final CompletableFuture<CrawlSummary> done = new CompletableFuture<>();

    private Crawl(CrawlConfig config, HostRateLimiter limiter, List<URI> seeds) {
        this.config = config;
        this.model = switch (config.model()) {
            case PLATFORM, VIRTUAL -> new ThreadFetchModel(config.model(), config, limiter, stats);
            case ASYNC -> new AsyncFetchModel(config, limiter, stats);
        };
        for (URI seed : seeds) {
            seedHosts.add(UrlNormalizer.hostKey(seed));
            offer(seed, 0);
        }
        this.dispatcher = Thread.ofPlatform().name("crawl-dispatcher").daemon(true).unstarted(this::dispatch);
    }

    /**
     * Starts a crawl from {@code seeds}, polite through {@link HostRateLimiter#perHost HostRateLimiter.perHost(rate,
     * 1)} at the config's per-host rate (burst 1: requests to a host strictly spaced).
     *
     * @throws IllegalArgumentException when no seed is a valid http(s) URL (the message names the bad ones)
     */
    public static Crawl start(CrawlConfig config, List<String> seeds) {
        return start(config, HostRateLimiter.perHost(config.perHostRate(), 1), seeds);
    }

    /** Starts a crawl with the given politeness limiter. */
    public static Crawl start(CrawlConfig config, HostRateLimiter limiter, List<String> seeds) {
        List<URI> valid = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (String s : seeds) {
            switch (UrlNormalizer.normalize(null, s)) {
                case UrlNormalizer.Ok ok -> valid.add(ok.uri());
                case UrlNormalizer.Rejected r -> bad.add("'" + s + "' (" + r.kind().label() + ")");
            }
        }
        if (valid.isEmpty()) {
            throw new IllegalArgumentException("no valid http(s) URL to start from: " + String.join(", ", bad));
        }
        Crawl crawl = new Crawl(config, limiter, valid);
        crawl.dispatcher.start();
        return crawl;
    }

    // ---------------------------------------------------------------- control

    /** Graceful stop: no new fetch starts; those in flight finish. Returns at once. */
    public void stop() {
        lock.lock();
        try {
            stopping = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops and aborts the fetches in flight. Returns at once. */
    public void cancel() {
        cancelled = true;
        stop();
        model.abort();
        running.forEach(f -> f.cancel(true));
    }

    /** Waits for the crawl to end (every thread it started has ended by then) and returns its summary. */
    public CrawlSummary await() throws InterruptedException {
        try {
            CrawlSummary summary = done.get();
            dispatcher.join(); // it completes the summary just before it ends
            return summary;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the crawl failed: " + e.getCause(), e.getCause());
        }
    }

    /** As {@link #await()}, giving up after {@code timeout}. */
    public CrawlSummary await(Duration timeout) throws InterruptedException, TimeoutException {
        try {
            CrawlSummary summary = done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            dispatcher.join(); // it completes the summary just before it ends
            return summary;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the crawl failed: " + e.getCause(), e.getCause());
        }
    }

    /** Cancels (if still running) and waits for the end. */
    @Override
    public void close() throws InterruptedException {
        if (!done.isDone()) {
            cancel();
        }
        dispatcher.join();
    }

    public Progress progress() {
        lock.lock();
        try {
            return new Progress(stats.pages.sum(), stats.requests.sum(),
                    stats.errors().values().stream().mapToLong(Long::longValue).sum(), inFlight, frontier.size(),
                    Duration.ofNanos(System.nanoTime() - startNanos));
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- dispatch

    private void dispatch() {
        try {
            while (true) {
                Task task;
                lock.lock();
                try {
                    task = null;
                    while (!stopping && dispatched < config.maxPages()) {
                        if (inFlight < config.concurrency() && (task = nextTask()) != null) {
                            break;
                        }
                        if (inFlight == 0) {
                            break; // nothing queued, nothing in flight: the crawl is complete
                        }
                        changed.await();
                    }
                    if (task == null) {
                        break;
                    }
                    inFlight++;
                    dispatched++;
                } finally {
                    lock.unlock();
                }
                Task current = task;
                CompletableFuture<List<Task>> f = model.fetch(current.uri(), r -> process(current, r));
                running.add(f);
                f.whenComplete((links, error) -> finished(f, links));
            }
            lock.lock();
            try {
                while (inFlight > 0) {
                    changed.await();
                }
            } finally {
                lock.unlock();
            }
        } catch (InterruptedException e) {
            cancel();
        } finally {
            model.close();
            done.complete(summary());
        }
    }

    /** The next live task (skipping entries superseded by a shallower discovery), or null. Holds the lock. */
    private Task nextTask() {
        Task t;
        while ((t = frontier.poll()) != null) {
            String key = t.uri().toString();
            Integer depth = queuedDepth.get(key);
            if (depth != null && depth == t.depth()) {
                queuedDepth.remove(key);
                return t;
            }
        }
        return null;
    }

    private void finished(CompletableFuture<?> f, List<Task> links) {
        running.remove(f);
        lock.lock();
        try {
            if (links != null && !stopping) {
                for (Task link : links) {
                    offer(link.uri(), link.depth());
                }
            }
            inFlight--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Queues a URL unless seen (a shallower rediscovery of a still-queued URL lowers its depth). Holds the lock. */
    private void offer(URI uri, int depth) {
        if (depth > config.maxDepth()) {
            return;
        }
        String key = uri.toString();
        if (seen.add(key)) {
            queuedDepth.put(key, depth);
            frontier.add(new Task(uri, depth, seq++));
        } else {
            Integer queued = queuedDepth.get(key);
            if (queued != null && depth < queued) {
                queuedDepth.put(key, depth);
                frontier.add(new Task(uri, depth, seq++));
            }
        }
    }

    // ---------------------------------------------------------------- per page, on the fetch thread

    private List<Task> process(Task task, FetchResult result) {
        return switch (result) {
            case FetchResult.Failure f -> {
                if (!(cancelled && f.kind() == ErrorKind.IO)) {
                    stats.error(f.kind());
                }
                yield List.of();
            }
            case FetchResult.Page p -> {
                if (!fetched.add(p.finalUri())) {
                    yield List.of(); // reached again through a redirect: already parsed
                }
                stats.pages.increment();
                stats.bytes.add(p.body().length);
                yield task.depth() >= config.maxDepth() ? List.of() : links(p, task.depth() + 1);
            }
        };
    }

    private List<Task> links(FetchResult.Page page, int depth) {
        // Decoded as UTF-8 up front: jsoup's charset sniffing of a stream (BOM, <meta> scan, re-read) costs more
        // than the parse of a small page.
        Document doc = Jsoup.parse(new String(page.body(), StandardCharsets.UTF_8), page.finalUri().toString());
        List<Task> out = new ArrayList<>();
        for (Element a : doc.getElementsByTag("a")) {   // not select("a[href]"): no CSS query to parse per page
            if (!a.hasAttr("href")) {
                continue;
            }
            stats.links.increment();
            switch (UrlNormalizer.normalize(page.finalUri(), a.attr("href"))) {
                case UrlNormalizer.Rejected r -> stats.error(r.kind());
                case UrlNormalizer.Ok ok -> {
                    if (config.sameHostOnly() && !seedHosts.contains(UrlNormalizer.hostKey(ok.uri()))) {
                        stats.error(ErrorKind.EXTERNAL_HOST);
                    } else if (!ok.uri().equals(page.finalUri())) {
                        out.add(new Task(ok.uri(), depth, 0));
                    }
                }
            }
        }
        return out;
    }

    private CrawlSummary summary() {
        Histogram h = stats.latencyMicros();
        boolean early;
        lock.lock();
        try {
            early = stopping || (dispatched >= config.maxPages() && !frontier.isEmpty());
        } finally {
            lock.unlock();
        }
        return new CrawlSummary(config.model(), stats.pages.sum(), stats.requests.sum(), stats.retries.sum(),
                stats.throttled.sum(), stats.links.sum(), stats.errors(),
                Duration.ofNanos(System.nanoTime() - startNanos), h.getValueAtPercentile(50),
                h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getMaxValue(), early, Set.copyOf(fetched));
    }
}
