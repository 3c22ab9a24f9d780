package dev.conclab.toolkit.loop;

import java.time.Duration;
import java.util.Objects;

/**
 * A callback that ran for at least the loop's slow-callback duration, reported in debug mode (asyncio logs the same
 * event as "Executing &lt;Handle ...&gt; took 0.123 seconds"). Immutable.
 *
 * @param loopName the loop's name
 * @param callbackName the callback's name (its handle's name)
 * @param took how long the callback ran
 */
public record SlowCallback(String loopName, String callbackName, Duration took) {
    public SlowCallback {
        Objects.requireNonNull(loopName, "loopName");
        Objects.requireNonNull(callbackName, "callbackName");
        Objects.requireNonNull(took, "took");
    }

    /** asyncio's wording: {@code Executing <name> took 0.123 seconds}. */
    public String message() {
        return String.format("Executing %s took %.3f seconds", callbackName, took.toNanos() / 1e9);
    }
}
