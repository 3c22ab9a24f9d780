package dev.conclab.crawl.site;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every request the site answered, in arrival order per event loop (not globally sorted). Thread-safe; recording is
 * lock-free. Tests read it to check the crawler's behaviour from the server's side.
 */
public final class RequestLog {

    /**
     * One request.
     *
     * @param nanos    {@link System#nanoTime()} when the request arrived
     * @param client   the client's address
     * @param path     the request target, query included
     * @param status   the status answered
     */
    public record Hit(long nanos, String client, String path, int status) {}

    private final ConcurrentLinkedQueue<Hit> hits = new ConcurrentLinkedQueue<>();

    void record(Hit hit) {
        hits.add(hit);
    }

    /** A snapshot, sorted by arrival time. */
    public List<Hit> hits() {
        return hits.stream().sorted(java.util.Comparator.comparingLong(Hit::nanos)).toList();
    }

    /** How many requests asked for exactly this path. */
    public long count(String path) {
        return hits.stream().filter(h -> h.path().equals(path)).count();
    }

    public void clear() {
        hits.clear();
    }
}
