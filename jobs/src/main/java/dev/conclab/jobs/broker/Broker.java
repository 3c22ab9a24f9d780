package dev.conclab.jobs.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The one seam between the task queue and its storage: a durable queue of {@link TaskMessage}s with reservations
 * (visibility timeouts), the record of every task's state and result, and the small shared state that must hold
 * across all workers (rate-limit buckets, chord counters, revocations). The embedded SQLite broker and the Redis
 * Streams broker implement it; one contract test suite runs against both.
 *
 * <p><b>Delivery guarantee: at least once.</b> A message is removed only when a worker {@linkplain #settle settles}
 * it (late acknowledgement). A reservation that is neither settled nor {@linkplain #extend extended} within its
 * visibility timeout lapses, and the message is delivered again by a later {@link #reserve} of any consumer,
 * counting a redelivery. Lapsed reservations are reclaimed by {@code reserve} itself, not by a periodic sweep, so a
 * dead worker's message is redelivered as soon as another worker asks after the timeout.
 *
 * <p><b>Results: exactly once.</b> The first settlement of a task that reaches a final state wins; any later one
 * (a redelivered copy that also ran) is dropped and counted in {@link BrokerStats#duplicates()}.
 *
 * <p><b>Durability.</b> Once {@link #enqueue} returns, the message survives a crash of the client, of every worker
 * and of the broker process (SQLite: a committed WAL transaction; Redis: as durable as the server's persistence).
 *
 * <p><b>Ordering.</b> Among the ready messages of one queue, higher {@linkplain TaskMessage#priority priority}
 * first, then older first. A message whose {@code notBeforeMillis} is in the future is not ready. Nothing is
 * promised across queues, nor between concurrent consumers.
 *
 * <p><b>Thread safety and blocking.</b> Implementations are safe for use by any number of threads, processes and
 * (Redis) machines at once. Only {@link #reserve} blocks waiting for work; every other method does one bounded
 * round trip to the store.
 */
public interface Broker extends AutoCloseable {

    /**
     * Stores a message for delivery and its task's record in state PENDING. If its idempotency key was seen
     * before, stores nothing, counts a duplicate, and returns the id of the task first submitted with that key.
     *
     * @return the id under which the task is known
     */
    String enqueue(TaskMessage message);

    /** {@link #enqueue} for many messages, in one transaction or pipeline where the store allows. */
    default List<String> enqueueAll(List<TaskMessage> messages) {
        List<String> ids = new ArrayList<>(messages.size());
        for (TaskMessage message : messages) {
            ids.add(enqueue(message));
        }
        return ids;
    }

    /**
     * Reserves up to {@code max} ready messages from the given queues (earlier queues first) for {@code consumer},
     * each invisible to others for {@code visibility}; reclaims lapsed reservations first. Marks their tasks
     * RECEIVED. Messages of revoked tasks are removed instead of delivered. Waits up to {@code wait} for at least
     * one message; returns an empty list if none came.
     *
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility, Duration wait)
            throws InterruptedException;

    /**
     * Pushes a reservation's timeout out to {@code visibility} from now (a worker's heartbeat for a long task).
     *
     * @return false if the reservation already lapsed and the message was redelivered (the caller should stop
     *         treating it as its own), or the message is gone
     */
    boolean extend(Delivery delivery, Duration visibility);

    /** Records that the task started running on its consumer: state STARTED, start time, worker. */
    void started(Delivery delivery);

    /**
     * {@link #started} for many deliveries, in the order given; a store may commit them as one transaction. Workers
     * record the starts of tasks that began together in one call.
     */
    default void startedAll(List<Delivery> deliveries) {
        for (Delivery delivery : deliveries) {
            started(delivery);
        }
    }

    /**
     * Ends a reservation, atomically with everything the settlement implies (see {@link Settlement}).
     *
     * @return false if the settlement was dropped as a duplicate (the task already had a final state)
     */
    boolean settle(Delivery delivery, Settlement settlement);

    /**
     * Settles many reservations, each exactly as {@link #settle} would, in the order given: {@code settlements.get(i)}
     * ends {@code deliveries.get(i)}. Each settlement stays atomic with everything it implies; a store may commit
     * the whole batch as one transaction (one commit instead of one per task), never fewer guarantees than one by
     * one. Workers batch the settlements of tasks that finished together.
     *
     * @return for each delivery, what {@link #settle} would have returned
     * @throws IllegalArgumentException if the lists differ in size
     */
    default List<Boolean> settleAll(List<Delivery> deliveries, List<Settlement> settlements) {
        if (deliveries.size() != settlements.size()) {
            throw new IllegalArgumentException("one settlement per delivery: " + deliveries.size()
                    + " deliveries, " + settlements.size() + " settlements");
        }
        List<Boolean> done = new ArrayList<>(deliveries.size());
        for (int i = 0; i < deliveries.size(); i++) {
            done.add(settle(deliveries.get(i), settlements.get(i)));
        }
        return done;
    }

    /**
     * Registers a chord before its members are enqueued: when all {@code memberIds} have succeeded, the broker
     * enqueues {@code callback} (whose {@code chordResultsOf} is {@code chordId}) in the same atomic step as the
     * last member's success; if any member fails for good, the callback's task is recorded as FAILURE instead.
     * The callback's task is recorded PENDING at once, so its id can be polled like any other.
     */
    void openChord(String chordId, List<String> memberIds, TaskMessage callback);

    /** The member ids of a chord, in the order given to {@link #openChord}. */
    List<String> chordMembers(String chordId);

    /** The task's record, or empty if no task with this id was ever accepted. */
    Optional<TaskRecord> record(String taskId);

    /** The records of the given ids that exist, in the order given. */
    default List<TaskRecord> records(Collection<String> taskIds) {
        List<TaskRecord> found = new ArrayList<>(taskIds.size());
        for (String id : taskIds) {
            record(id).ifPresent(found::add);
        }
        return found;
    }

    /**
     * Revokes a task: if it has no final state it becomes REVOKED at once; a queued message is then never
     * delivered, and a worker running it learns of it through {@link #revokedAmong}.
     *
     * @return false if the task is unknown or already final
     */
    boolean revoke(String taskId, String reason);

    /** Which of the given task ids are revoked (a worker polls this for the tasks it is running). */
    Set<String> revokedAmong(Collection<String> taskIds);

    /**
     * Takes one permit from the token bucket {@code key}, shared by every worker of this broker: the bucket holds
     * up to {@code burst} permits and refills at {@code permitsPerSecond}.
     *
     * @return 0 if a permit was taken, else the milliseconds until one will be available (nothing was taken)
     */
    long tryAcquirePermit(String key, double permitsPerSecond, int burst);

    /** The dead-lettered tasks, newest first, at most {@code limit}. */
    List<TaskRecord> deadLetters(int limit);

    /**
     * Removes every queued (not reserved) message of the queue; their tasks become REVOKED with reason "purged".
     *
     * @return how many were removed
     */
    long purge(String queue);

    /** A snapshot of queues, reservations and counters. */
    BrokerStats stats();

    /** Releases connections and files; messages stay stored. Idempotent. */
    @Override
    void close();
}
