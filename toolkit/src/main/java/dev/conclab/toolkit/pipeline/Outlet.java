package dev.conclab.toolkit.pipeline;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write end of a flow: the channel its consumer reads (created when the consumer attaches, with the capacity
 * and batch size the consumer asks for) and the count of producer workers still running; the last one to finish
 * closes the channel, which ends the stream for the consumer. Each producer worker sends through a
 * {@link BatchingChannel.Sender} of its own and flushes it before it reports done.
 */
final class Outlet<T> {
    final String producerName;
    private final AtomicInteger running = new AtomicInteger();
    private volatile BatchingChannel<T> channel;

    Outlet(String producerName) {
        this.producerName = producerName;
    }

    /** Registers producer workers; called while building, before any starts. */
    void addProducers(int n) {
        running.addAndGet(n);
    }

    /** Attaches the consumer's channel; called while building. */
    void attach(BatchingChannel<T> ch) {
        if (channel != null) {
            throw new IllegalStateException("the output of stage '" + producerName
                    + "' already has a consumer; use broadcast(...) or partition(...) to fan out");
        }
        channel = ch;
    }

    boolean attached() {
        return channel != null;
    }

    /** A sender for one producer worker, whose waits for room are left out of {@code clock}'s busy time. */
    BatchingChannel.Sender<T> newSender(WorkerStats clock) {
        BatchingChannel.Sender<T> s = channel.newSender();
        s.clock(clock);
        return s;
    }

    /** Called by each producer worker as it ends, however it ends (after flushing, if it ended normally). */
    void producerDone() {
        if (running.decrementAndGet() == 0) {
            channel.close();
        }
    }
}
