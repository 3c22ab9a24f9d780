package dev.conclab.toolkit.loop;

import java.util.Objects;

/**
 * An exception that escaped a callback (or a done-callback of a future), handed to the loop's exception handler;
 * asyncio passes the same facts in the {@code context} dict of {@code call_exception_handler}. Immutable.
 *
 * @param loopName the loop's name
 * @param callbackName the name of the callback that threw
 * @param message what happened, e.g. "Exception in callback tick"
 * @param exception what the callback threw
 */
public record CallbackError(String loopName, String callbackName, String message, Throwable exception) {
    public CallbackError {
        Objects.requireNonNull(loopName, "loopName");
        Objects.requireNonNull(callbackName, "callbackName");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(exception, "exception");
    }
}
