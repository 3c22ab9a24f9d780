package dev.conclab.toolkit.pipeline;

/**
 * The end of a pipeline branch: takes each item. An exception sends the item and the exception to the dead
 * letters; the sink goes on with the next item. Called concurrently when the sink's parallelism is above one.
 *
 * @param <T> the type of the items
 */
@FunctionalInterface
public interface ItemSink<T> {
    /** Consumes one item. */
    void accept(T item) throws Exception;
}
