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
        int tid = lanes.computeIfAbsent(lane, l -> {
            int id = nextLane.getAndIncrement();
            add(Map.of("name", "thread_name", "ph", "M", "pid", 1, "tid", id, "args", Map.of("name", l)));
            return id;
        });
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("name", name);
        event.put("ph", "X");
        event.put("pid", 1);
        event.put("tid", tid);
        event.put("ts", (startNanos - originNanos) / 1_000.0);
        event.put("dur", Math.max(0, endNanos - startNanos) / 1_000.0);
        add(event);
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
