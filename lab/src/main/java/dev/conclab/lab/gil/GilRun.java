package dev.conclab.lab.gil;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one run of the model recorded, and the questions the experiment and the tests ask of it. Immutable.
 *
 * @param config     the GIL the run used
 * @param events     every event, in the order it happened
 * @param startNanos when the first thread was started, in {@link System#nanoTime()}
 * @param endNanos   when the last thread had finished
 */
public record GilRun(GilConfig config, List<GilEvent> events, long startNanos, long endNanos) {

    public GilRun {
        events = List.copyOf(events);
    }

    /** One stretch of time during which {@code thread} held the GIL, and why it let go. */
    public record Hold(String thread, long fromNanos, long toNanos, GilEvent.DropReason reason) {
    }

    public double wallMillis() {
        return (endNanos - startNanos) / 1e6;
    }

    /** The threads, in the order they first appear in the events. */
    public List<String> threads() {
        Set<String> names = new LinkedHashSet<>();
        events.forEach(e -> names.add(e.thread()));
        return List.copyOf(names);
    }

    /** Every stretch of holding the GIL, in the order they began. */
    public List<Hold> holds() {
        Map<String, Long> taken = new HashMap<>();
        List<Hold> holds = new ArrayList<>();
        for (GilEvent event : events) {
            switch (event) {
                case GilEvent.Take t -> taken.put(t.thread(), t.nanos());
                case GilEvent.Drop d -> {
                    Long from = taken.remove(d.thread());
                    if (from != null) {
                        holds.add(new Hold(d.thread(), from, d.nanos(), d.reason()));
                    }
                }
                default -> {
                }
            }
        }
        return holds;
    }

    /** How many times a stretch of holding began before the previous one ended (zero for a correct GIL). */
    public long overlappingHolds() {
        List<Hold> holds = holds();
        long overlaps = 0;
        long lastEnd = Long.MIN_VALUE;
        for (Hold hold : holds) {
            if (hold.fromNanos() < lastEnd) {
                overlaps++;
            }
            lastEnd = Math.max(lastEnd, hold.toNanos());
        }
        return overlaps;
    }

    /** How many drop requests were set. */
    public long dropRequests() {
        return events.stream().filter(GilEvent.DropRequest.class::isInstance).count();
    }

    /**
     * How many times a thread that dropped the GIL on request was the next to take it: an <em>immediate
     * re-take</em>, which forced switching exists to prevent.
     */
    public long immediateRetakes() {
        long retakes = 0;
        String droppedOnRequest = null;
        for (GilEvent event : events) {
            switch (event) {
                case GilEvent.Drop d -> droppedOnRequest =
                        d.reason() == GilEvent.DropReason.REQUESTED ? d.thread() : null;
                case GilEvent.Take t -> {
                    if (t.thread().equals(droppedOnRequest)) {
                        retakes++;
                    }
                    droppedOnRequest = null;
                }
                default -> {
                }
            }
        }
        return retakes;
    }

    /** The takes of {@code thread}, in order. */
    public List<GilEvent.Take> takes(String thread) {
        return events.stream().filter(GilEvent.Take.class::isInstance).map(GilEvent.Take.class::cast)
                .filter(t -> t.thread().equals(thread)).toList();
    }

    /**
     * One return from a blocking call: how long the thread waited for the GIL, from waking up to holding it, and
     * whether it found the GIL held by another thread (a {@link GilEvent.WaitStart}) or free.
     */
    public record WakeUp(long waitNanos, boolean foundHeld) {
    }

    /** Every time {@code thread} came back from a blocking call, in order. */
    public List<WakeUp> wakeUps(String thread) {
        List<WakeUp> wakeUps = new ArrayList<>();
        boolean blocked = false;
        boolean waited = false;
        for (GilEvent event : events) {
            if (!event.thread().equals(thread)) {
                continue;
            }
            switch (event) {
                case GilEvent.Drop d -> {
                    blocked = d.reason() == GilEvent.DropReason.BLOCKING;
                    waited = false;
                }
                case GilEvent.WaitStart w -> waited = true;
                case GilEvent.Take t -> {
                    if (blocked) {
                        wakeUps.add(new WakeUp(t.waitNanos(), waited));
                    }
                    blocked = false;
                    waited = false;
                }
                case GilEvent.DropRequest r -> {
                }
            }
        }
        return wakeUps;
    }
}
