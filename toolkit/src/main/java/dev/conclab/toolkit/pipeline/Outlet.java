package dev.conclab.toolkit.pipeline;

import dev.conclab.toolkit.channel.BoundedChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write end of a flow: the channel its consumer reads (created when the consumer attaches, with the capacity
 * the consumer asks for) and the count of producer workers still running; the last one to finish closes the
 * channel, which ends the stream for the consumer.
 */
final class Outlet<T> {
    final String producerName;
    private final AtomicInteger running = new AtomicInteger();
    private volatile BoundedChannel<T> channel;

    Outlet(String producerName) {
        this.producerName = producerName;
    }

    /** Registers producer workers; called while building, before any starts. */
    void addProducers(int n) {
        running.addAndGet(n);
    }

    /** Attaches the consumer's channel; called while building. */
    void attach(BoundedChannel<T> ch) {
        if (channel != null) {
            throw new IllegalStateException("the output of stage '" + producerName
                    + "' already has a consumer; use broadcast(...) or partition(...) to fan out");
        }
        channel = ch;
    }

    boolean attached() {
        return channel != null;
    }

    void send(T item) throws InterruptedException {
        channel.send(item);
    }

    /** Called by each producer worker as it ends, however it ends. */
    void producerDone() {
        if (running.decrementAndGet() == 0) {
            channel.close();
        }
    }
}
