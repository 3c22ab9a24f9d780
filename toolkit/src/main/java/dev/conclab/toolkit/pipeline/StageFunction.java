package dev.conclab.toolkit.pipeline;

/**
 * The work of one stage on one item: may throw, in which case the item and the exception go to the pipeline's
 * dead letters (after the retries of the stage's {@link RetryPolicy}, if any) and the stage goes on with the next
 * item. Returning {@code null} drops the item (a filter). With retries it may be called several times on one item,
 * so it should then be idempotent; with a time limit it should answer interrupts, or it holds its worker past it.
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
