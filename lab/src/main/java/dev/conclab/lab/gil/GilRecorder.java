package dev.conclab.lab.gil;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The log of one model run: every {@link GilEvent} in the order it was recorded, and running counts a script's
 * {@link Step.ComputeUntil} condition can read cheaply while the run goes on.
 *
 * <p><b>Thread safety:</b> safe for concurrent use. {@link #events()} returns a snapshot. The counts are read
 * without locking: a count read while an event is being recorded may not include that event yet, never more.
 */
public final class GilRecorder {

    private final List<GilEvent> events = new ArrayList<>();
    private final Map<String, LongAdder> takes = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> exits = new ConcurrentHashMap<>();

    void record(GilEvent event) {
        synchronized (this) {
            events.add(event);
        }
        switch (event) {
            case GilEvent.Take t -> count(takes, t.thread());
            case GilEvent.DropRequest r -> count(requests, r.thread());
            case GilEvent.Drop d when d.reason() == GilEvent.DropReason.EXIT -> count(exits, d.thread());
            default -> {
            }
        }
    }

    /** The events so far, in the order they happened. */
    public synchronized List<GilEvent> events() {
        return List.copyOf(events);
    }

    /** How many times {@code thread} has taken the GIL so far. */
    public long takes(String thread) {
        return read(takes, thread);
    }

    /** How many drop requests {@code thread} has set so far. */
    public long dropRequests(String thread) {
        return read(requests, thread);
    }

    /** Whether {@code thread} has finished its script and let the GIL go for good. */
    public boolean exited(String thread) {
        return read(exits, thread) > 0;
    }

    private static void count(Map<String, LongAdder> counts, String thread) {
        counts.computeIfAbsent(thread, t -> new LongAdder()).increment();
    }

    private static long read(Map<String, LongAdder> counts, String thread) {
        LongAdder adder = counts.get(thread);
        return adder == null ? 0 : adder.sum();
    }
}
