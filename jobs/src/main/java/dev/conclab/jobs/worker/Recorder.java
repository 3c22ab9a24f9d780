package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One worker's writes of task progress to the broker, batched: one thread takes whatever starts and settlements
 * are waiting (up to {@value #MAX_BATCH}) and writes them with one {@link Broker#startedAll} and one
 * {@link Broker#settleAll}, so tasks that start and finish together cost two writes, not two each. A batch's starts
 * are written before its settlements, and batches in the order they were taken, so a task's start is never written
 * after its settlement.
 *
 * <p>{@link #started} does not wait (STARTED is informational); {@link #settle} blocks until the settlement is
 * written, so a worker frees a task's slot only after its acknowledgement is stored (late ack stays late). A
 * failed write fails the callers of its batch; their messages are then redelivered after the visibility timeout.
 * Thread-safe.
 */
final class Recorder {

    private static final int MAX_BATCH = 512;

    private sealed interface Op permits Start, Settle, Stop {
    }

    private record Start(Delivery delivery) implements Op {
    }

    private record Settle(Delivery delivery, Settlement settlement, CompletableFuture<Boolean> done) implements Op {
    }

    private record Stop() implements Op {
    }

    private final Broker broker;
    private final BlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopped;

    Recorder(Broker broker, String threadName) {
        this.broker = broker;
        this.thread = Thread.ofPlatform().name(threadName).start(this::loop);
    }

    void started(Delivery delivery) {
        queue.add(new Start(delivery));
    }

    /**
     * Writes a settlement and waits for it; returns false if the broker dropped it as a duplicate.
     *
     * @throws RuntimeException the broker's failure
     */
    boolean settle(Delivery delivery, Settlement settlement) {
        if (stopped) {
            throw new IllegalStateException("the recorder was stopped; " + delivery.message().id()
                    + " stays reserved until its visibility timeout");
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        queue.add(new Settle(delivery, settlement, done));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return done.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the write is already queued: wait for its outcome anyway
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new CompletionException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes everything handed in so far, then ends the thread. */
    void stop() {
        stopped = true;
        queue.add(new Stop());
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        List<Op> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue; // nobody interrupts this thread on purpose; only Stop ends it
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            // All the batch's starts first, then all its settlements: two writes per batch, however the two
            // kinds interleave in the queue (alternating runs cost one write each, and with many tasks finishing
            // as others start they alternate almost every element). Per task the order still holds: a task's start
            // is handed in before its settlement, so it is in this batch's starts or in an earlier batch.
            List<Op> starts = new ArrayList<>();
            List<Op> settles = new ArrayList<>();
            boolean stop = false;
            for (Op op : batch) {
                switch (op) {
                    case Start s -> starts.add(s);
                    case Settle s -> settles.add(s);
                    case Stop s -> stop = true;
                }
            }
            if (!starts.isEmpty()) {
                writeStarts(starts);
            }
            if (!settles.isEmpty()) {
                writeSettlements(settles);
            }
            batch.clear();
            if (stop) {
                // a settle that raced with stop(): fail it rather than leave its caller waiting forever
                List<Op> late = new ArrayList<>();
                queue.drainTo(late);
                for (Op op : late) {
                    if (op instanceof Settle s) {
                        s.done().completeExceptionally(new IllegalStateException("the recorder was stopped"));
                    }
                }
                return;
            }
        }
    }

    private void writeStarts(List<Op> run) {
        List<Delivery> deliveries = new ArrayList<>(run.size());
        for (Op op : run) {
            deliveries.add(((Start) op).delivery());
        }
        try {
            broker.startedAll(deliveries);
        } catch (RuntimeException e) {
            java.util.logging.Logger.getLogger(Recorder.class.getName()).log(java.util.logging.Level.WARNING,
                    "recording " + deliveries.size() + " start(s) failed", e);
        }
    }

    private void writeSettlements(List<Op> run) {
        List<Delivery> deliveries = new ArrayList<>(run.size());
        List<Settlement> settlements = new ArrayList<>(run.size());
        for (Op op : run) {
            Settle s = (Settle) op;
            deliveries.add(s.delivery());
            settlements.add(s.settlement());
        }
        try {
            List<Boolean> results = broker.settleAll(deliveries, settlements);
            for (int k = 0; k < run.size(); k++) {
                ((Settle) run.get(k)).done().complete(results.get(k));
            }
        } catch (RuntimeException e) {
            for (Op op : run) {
                ((Settle) op).done().completeExceptionally(e);
            }
        }
    }
}
