package dev.conclab.toolkit.pipeline;

/**
 * The work of one stage on one item: may throw, in which case the item and the exception go to the pipeline's
 * dead letters and the stage goes on with the next item. Returning {@code null} drops the item (a filter).
 *
 * <p>Called concurrently by the stage's workers when its parallelism is above one, so it must then be thread-safe.
 *
 * @param <I> the type of the items in
 * @param <O> the type of the items out
 */
@FunctionalInterface
public interface StageFunction<I, O> {
    /** Transforms one item; {@code null} drops it. */
    O apply(I item) throws Exception;
}
