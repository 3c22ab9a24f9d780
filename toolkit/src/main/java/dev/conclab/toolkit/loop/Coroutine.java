package dev.conclab.toolkit.loop;

/**
 * The body of a {@link Task}, written as a state machine because Java has no coroutines: the task calls
 * {@link #resume} once to start it and again after each future it awaits is done, always on the loop thread, never
 * two calls at once. Each call runs to its end (nothing else on the loop runs meanwhile) and returns the next
 * {@link Step}. This is what the Python compiler makes of an {@code async def}: each {@code await} is a point where
 * the function returns to the loop and is later resumed.
 *
 * <p>A typical body keeps its state in a field and switches on it:
 * <pre>{@code
 * Coroutine<String> fetch = new Coroutine<>() {
 *     int state;
 *     public Step<String> resume(Outcome<?> in) {
 *         Object value = in.orThrow();              // an awaited failure or a cancellation is thrown here
 *         return switch (state++) {
 *             case 0 -> Step.await(loop.sleep(Duration.ofMillis(10)));     // await asyncio.sleep(0.01)
 *             case 1 -> Step.done("slept");                                // return "slept"
 *             default -> throw new IllegalStateException("resumed after done");
 *         };
 *     }
 * };
 * }</pre>
 * Throwing from {@code resume} ends the task with that exception; throwing a
 * {@link java.util.concurrent.CancellationException} (for instance by letting {@code in.orThrow()} rethrow it)
 * ends it as cancelled, as an uncaught {@code CancelledError} does in asyncio. A coroutine that catches the
 * cancellation may go on awaiting and finish normally.
 *
 * @param <T> the type of the task's result
 */
@FunctionalInterface
public interface Coroutine<T> {

    /**
     * Runs the coroutine up to its next suspension point.
     *
     * @param outcome {@link Outcome#start()} on the first call; afterwards the outcome of the future the previous
     *                step awaited, or a {@link java.util.concurrent.CancellationException} failure when the task was
     *                cancelled
     * @return the next step; never {@code null}
     * @throws Exception to end the task with that exception
     */
    Step<T> resume(Outcome<?> outcome) throws Exception;
}
