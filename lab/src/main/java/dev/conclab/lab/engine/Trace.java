package dev.conclab.lab.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records spans of work on named lanes (a lane is usually a thread) as Chrome Trace Event JSON, so a run opens
 * in any trace viewer ({@code chrome://tracing}, Perfetto) and in the web lab's timeline.
 *
 * <p><b>Thread safety:</b> safe for concurrent use; spans recorded from many threads keep their own timestamps.
 * Times are {@link System#nanoTime()} values, written relative to the trace's creation in microseconds.
 */
public final class Trace {

    private final long originNanos = System.nanoTime();
    private final Map<String, Integer> lanes = new ConcurrentHashMap<>();
    private final AtomicInteger nextLane = new AtomicInteger(1);
    private final List<Map<String, Object>> events = new ArrayList<>();

    /** Records a complete span {@code name} on {@code lane}, from {@code startNanos} to {@code endNanos}. */
    public void span(String lane, String name, long startNanos, long endNanos) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("name", name);
        event.put("ph", "X");
        event.put("pid", 1);
        event.put("tid", lane(lane));
        event.put("ts", (startNanos - originNanos) / 1_000.0);
        event.put("dur", Math.max(0, endNanos - startNanos) / 1_000.0);
        add(event);
    }

    /**
     * Records an instant event {@code name} on {@code lane} at {@code atNanos}: a moment, not a span, which viewers
     * draw as a mark on the lane (e.g. a request one thread makes of another).
     */
    public void instant(String lane, String name, long atNanos) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("name", name);
        event.put("ph", "i");
        event.put("s", "t");
        event.put("pid", 1);
        event.put("tid", lane(lane));
        event.put("ts", (atNanos - originNanos) / 1_000.0);
        add(event);
    }

    /** The lane's id, naming the lane with a metadata event the first time it is used. */
    private int lane(String lane) {
        return lanes.computeIfAbsent(lane, l -> {
            int id = nextLane.getAndIncrement();
            add(Map.of("name", "thread_name", "ph", "M", "pid", 1, "tid", id, "args", Map.of("name", l)));
            return id;
        });
    }

    private synchronized void add(Map<String, Object> event) {
        events.add(event);
    }

    /** The events so far, in the order they were recorded. */
    public synchronized List<Map<String, Object>> events() {
        return List.copyOf(events);
    }

    public synchronized boolean isEmpty() {
        return events.isEmpty();
    }
}
