package dev.conclab.lab.gil;

import dev.conclab.lab.engine.Trace;

import java.util.HashMap;
import java.util.Map;

/**
 * Draws a {@link GilRun} on an engine {@link Trace}, which writes Chrome Trace Event JSON: one lane per model
 * thread, with complete events for the spans ({@value #HOLDS} while it holds the GIL, {@value #WAITS} from the
 * moment it finds the GIL taken until it gets it, {@value #BLOCKED} while it is in a blocking call) and an instant
 * event {@value #REQUEST} on the waiter's lane each time it sets the drop request. Perfetto and
 * {@code chrome://tracing} draw the hand-overs as a timeline.
 *
 * <p><b>Thread safety:</b> stateless; as safe as the {@link Trace} it writes to (which is thread-safe).
 */
public final class GilTraceWriter {

    public static final String HOLDS = "holds GIL";
    public static final String WAITS = "waits for GIL";
    public static final String BLOCKED = "blocking call (GIL released)";
    public static final String REQUEST = "drop request";

    private GilTraceWriter() {
    }

    /** Draws {@code run} on {@code trace}, its lanes named {@code lanePrefix · thread}. */
    public static void draw(GilRun run, Trace trace, String lanePrefix) {
        Map<String, Long> holding = new HashMap<>();
        Map<String, Long> waiting = new HashMap<>();
        Map<String, Long> blocked = new HashMap<>();
        for (GilEvent event : run.events()) {
            String lane = lanePrefix + " · " + event.thread();
            switch (event) {
                case GilEvent.WaitStart w -> waiting.put(w.thread(), w.nanos());
                case GilEvent.Take t -> {
                    Long blockedSince = blocked.remove(t.thread());
                    if (blockedSince != null) {
                        trace.span(lane, BLOCKED, blockedSince, t.nanos() - t.waitNanos());
                    }
                    Long waitingSince = waiting.remove(t.thread());
                    if (waitingSince != null) {
                        trace.span(lane, WAITS, waitingSince, t.nanos());
                    }
                    holding.put(t.thread(), t.nanos());
                }
                case GilEvent.DropRequest r -> trace.instant(lane, REQUEST, r.nanos());
                case GilEvent.Drop d -> {
                    Long since = holding.remove(d.thread());
                    if (since != null) {
                        trace.span(lane, HOLDS, since, d.nanos());
                    }
                    if (d.reason() == GilEvent.DropReason.BLOCKING) {
                        blocked.put(d.thread(), d.nanos());
                    }
                }
            }
        }
    }
}
