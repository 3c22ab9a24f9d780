package dev.conclab.toolkit.pipeline;

/**
 * The start of a pipeline: produces items into an {@link Emitter}, on a thread of its own, and returns when it has
 * no more. {@link Emitter#emit} blocks while the first stage's channel is full (backpressure) and returns
 * {@code false} once the pipeline drains or is cancelled, after which the source should return.
 *
 * @param <T> the type of the items
 */
@FunctionalInterface
public interface Source<T> {
    /** Emits every item; returning ends the stream (the pipeline then drains). */
    void produce(Emitter<T> out) throws Exception;

    /**
     * Where a {@link Source} puts its items. Not thread-safe: one source thread emits.
     *
     * @param <T> the type of the items
     */
    interface Emitter<T> {
        /**
         * Hands {@code item} to the first stage, waiting while its channel is full. The item joins the source's
         * batch, which leaves when it is full, when the source returns, and at once whenever the first stage is
         * waiting for input, so a source may block on its own input after an emit without holding the item back.
         *
         * @return {@code true} if accepted; {@code false} if the pipeline is draining or cancelled (the item was
         *         not accepted and the source should stop)
         * @throws InterruptedException if interrupted while waiting (the pipeline was cancelled)
         */
        boolean emit(T item) throws InterruptedException;
    }
}
