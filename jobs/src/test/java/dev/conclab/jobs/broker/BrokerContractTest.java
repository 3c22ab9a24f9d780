package dev.conclab.jobs.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.Settlement.Failure;
import dev.conclab.jobs.broker.Settlement.Release;
import dev.conclab.jobs.broker.Settlement.Retry;
import dev.conclab.jobs.broker.Settlement.Revoked;
import dev.conclab.jobs.broker.Settlement.Success;
import dev.conclab.jobs.task.TaskState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every {@link Broker} keeps, one test per clause of the Javadoc of {@link Broker}, {@link Settlement},
 * {@link TaskMessage} and {@link Delivery}. A store's test extends this class and says how to open a broker on a
 * fresh store ({@link #openBroker}) and a second instance on the same store ({@link #reopenBroker}: a second worker
 * process, or the same store after a restart).
 *
 * <p>Timing: visibility timeouts are {@value #VISIBILITY_MS} ms; a message that must arrive is awaited with a
 * generous {@link #WAIT} (the call returns as soon as it arrives); one that must not arrive is checked with a
 * zero wait, and "came back within 2x the visibility" is the only tight bound. Races (two chord members settling
 * at once, four consumers reserving) are lined up with barriers and latches, never with sleeps. Every broker the
 * test opened is closed after it, and every thread it started is joined.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class BrokerContractTest {

    /** The visibility timeout of the lapse tests. */
    protected static final long VISIBILITY_MS = 300;
    /** How long a test waits for a message that must arrive (reserve returns as soon as it does). */
    protected static final Duration WAIT = Duration.ofSeconds(10);
    /** A visibility no test outlives. */
    protected static final Duration LONG = Duration.ofSeconds(60);
    private static final Duration SHORT = Duration.ofMillis(VISIBILITY_MS);
    private static final List<String> DEFAULT = List.of(TaskMessage.DEFAULT_QUEUE);

    /** A broker on a fresh store; called once per test, before it. */
    protected abstract Broker openBroker();

    /** Another broker instance on the store of the last {@link #openBroker()}: a second process, or a restart. */
    protected abstract Broker reopenBroker();

    protected Broker broker;
    private final List<Broker> opened = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void openFreshStore() {
        broker = track(openBroker());
    }

    @AfterEach
    void closeEveryBroker() {
        for (Broker b : opened) {
            b.close();
        }
    }

    /** A second broker instance on the same store, closed after the test. */
    protected Broker second() {
        return track(reopenBroker());
    }

    private Broker track(Broker b) {
        opened.add(b);
        return b;
    }

    // ---------------------------------------------------------------- helpers

    private static final AtomicInteger SEQ = new AtomicInteger();

    protected static TaskMessage msg(String name) {
        return TaskMessage.of(UUID.randomUUID().toString(), name, "[]", System.currentTimeMillis());
    }

    protected static TaskMessage msg(String name, String queue, int priority, long notBefore) {
        return new TaskMessage(UUID.randomUUID().toString(), name, "[" + SEQ.incrementAndGet() + "]", queue, priority,
                notBefore, 0, 3, null, 0, 0, null, null, null, null, System.currentTimeMillis());
    }

    protected static TaskMessage withKey(TaskMessage m, String key) {
        return new TaskMessage(m.id(), m.name(), m.argsJson(), m.queue(), m.priority(), m.notBeforeMillis(),
                m.attempt(), m.maxRetries(), key, m.softLimitMillis(), m.hardLimitMillis(), m.parentId(), m.link(),
                m.chordId(), m.chordResultsOf(), m.submittedMillis());
    }

    protected static TaskMessage withLink(TaskMessage m, TaskMessage link) {
        return new TaskMessage(m.id(), m.name(), m.argsJson(), m.queue(), m.priority(), m.notBeforeMillis(),
                m.attempt(), m.maxRetries(), m.idempotencyKey(), m.softLimitMillis(), m.hardLimitMillis(),
                m.parentId(), link, m.chordId(), m.chordResultsOf(), m.submittedMillis());
    }

    protected static TaskMessage withParent(TaskMessage m, String parentId) {
        return new TaskMessage(m.id(), m.name(), m.argsJson(), m.queue(), m.priority(), m.notBeforeMillis(),
                m.attempt(), m.maxRetries(), m.idempotencyKey(), m.softLimitMillis(), m.hardLimitMillis(), parentId,
                m.link(), m.chordId(), m.chordResultsOf(), m.submittedMillis());
    }

    protected static TaskMessage inChord(TaskMessage m, String chordId) {
        return new TaskMessage(m.id(), m.name(), m.argsJson(), m.queue(), m.priority(), m.notBeforeMillis(),
                m.attempt(), m.maxRetries(), m.idempotencyKey(), m.softLimitMillis(), m.hardLimitMillis(),
                m.parentId(), m.link(), chordId, m.chordResultsOf(), m.submittedMillis());
    }

    protected static TaskMessage callbackOf(String chordId, String queue) {
        return new TaskMessage(UUID.randomUUID().toString(), "sum", "[]", queue, 0, 0, 0, 0, null, 0, 0, null, null,
                null, chordId, System.currentTimeMillis());
    }

    protected static Delivery one(Broker b, String consumer, Duration visibility) throws InterruptedException {
        List<Delivery> got = b.reserve(consumer, DEFAULT, 1, visibility, WAIT);
        assertThat(got).as("a delivery within %s", WAIT).hasSize(1);
        return got.getFirst();
    }

    protected static List<Delivery> none(Broker b, String consumer, List<String> queues) throws InterruptedException {
        return b.reserve(consumer, queues, 10, LONG, Duration.ZERO);
    }

    protected static TaskRecord rec(Broker b, String id) {
        return b.record(id).orElseThrow(() -> new AssertionError("no record for " + id));
    }

    // ---------------------------------------------------------------- the happy path

    @Test
    void enqueueReserveStartSettleSuccessRecordsTheResult() throws Exception {
        TaskMessage m = msg("add");
        assertThat(broker.enqueue(m)).isEqualTo(m.id());
        assertThat(rec(broker, m.id()).state()).isEqualTo(TaskState.PENDING);

        Delivery d = one(broker, "w1", LONG);
        assertThat(d.message()).isEqualTo(m);
        assertThat(d.consumer()).isEqualTo("w1");
        assertThat(d.deliveryCount()).isEqualTo(1);
        assertThat(d.redelivered()).isFalse();
        assertThat(rec(broker, m.id()).state()).isEqualTo(TaskState.RECEIVED);

        broker.started(d);
        TaskRecord running = rec(broker, m.id());
        assertThat(running.state()).isEqualTo(TaskState.STARTED);
        assertThat(running.worker()).isEqualTo("w1");
        assertThat(running.startedMillis()).isPositive();

        assertThat(broker.settle(d, new Success("42"))).isTrue();
        TaskRecord done = rec(broker, m.id());
        assertThat(done.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(done.resultJson()).isEqualTo("42");
        assertThat(done.argsJson()).isEqualTo("[]");
        assertThat(done.name()).isEqualTo("add");
        assertThat(done.deliveries()).isEqualTo(1);
        assertThat(done.finishedMillis()).isGreaterThanOrEqualTo(done.startedMillis());
        assertThat(none(broker, "w2", DEFAULT)).as("a settled message is gone").isEmpty();
        BrokerStats stats = broker.stats();
        assertThat(stats.succeeded()).isEqualTo(1);
        assertThat(stats.delivered()).isEqualTo(1);
        assertThat(stats.inFlight()).isEmpty();
    }

    @Test
    void unknownIdHasNoRecordAndRecordsKeepTheGivenOrder() {
        assertThat(broker.record("no-such-task")).isEmpty();
        TaskMessage a = msg("a");
        TaskMessage b = msg("b");
        broker.enqueueAll(List.of(a, b));
        assertThat(broker.records(List.of(b.id(), "missing", a.id())))
                .extracting(TaskRecord::id).containsExactly(b.id(), a.id());
    }

    @Test
    void enqueueAllReturnsTheIdsInOrder() throws Exception {
        List<TaskMessage> batch = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            batch.add(msg("n" + i));
        }
        assertThat(broker.enqueueAll(batch)).containsExactlyElementsOf(batch.stream().map(TaskMessage::id).toList());
        assertThat(broker.stats().queued()).containsEntry(TaskMessage.DEFAULT_QUEUE, 50L);
        List<Delivery> got = broker.reserve("w", DEFAULT, 100, LONG, WAIT);
        assertThat(got).extracting(d -> d.message().id())
                .as("same priority: older first").containsExactlyElementsOf(batch.stream().map(TaskMessage::id).toList());
    }

    // ---------------------------------------------------------------- ordering, ETA

    @Test
    void higherPriorityFirstThenOlderFirst() throws Exception {
        TaskMessage lowOld = msg("low-old", "default", 0, 0);
        TaskMessage highOld = msg("high-old", "default", 7, 0);
        TaskMessage lowNew = msg("low-new", "default", 0, 0);
        TaskMessage highNew = msg("high-new", "default", 7, 0);
        TaskMessage mid = msg("mid", "default", 3, 0);
        for (TaskMessage m : List.of(lowOld, highOld, lowNew, highNew, mid)) {
            broker.enqueue(m);
        }
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            order.add(one(broker, "w", LONG).message().name());
        }
        assertThat(order).containsExactly("high-old", "high-new", "mid", "low-old", "low-new");
    }

    @Test
    void earlierQueuesFirstAndOtherQueuesUntouched() throws Exception {
        TaskMessage inB = msg("b", "qb", 9, 0);
        TaskMessage inA = msg("a", "qa", 0, 0);
        TaskMessage inC = msg("c", "qc", 0, 0);
        broker.enqueueAll(List.of(inB, inA, inC));
        List<Delivery> got = broker.reserve("w", List.of("qa", "qb"), 10, LONG, WAIT);
        assertThat(got).extracting(d -> d.message().name()).containsExactly("a", "b");
        assertThat(broker.stats().queued()).containsEntry("qc", 1L);
    }

    @Test
    void anEtaInTheFutureIsNotDeliveredEarly() throws Exception {
        long eta = System.currentTimeMillis() + 400;
        TaskMessage later = msg("later", "default", 9, eta);
        broker.enqueue(later);
        assertThat(none(broker, "w", DEFAULT)).as("not ready before its ETA").isEmpty();
        TaskMessage now = msg("now", "default", 0, 0);
        broker.enqueue(now);
        assertThat(one(broker, "w", LONG).message().id()).as("a ready message passes a delayed one").isEqualTo(now.id());
        Delivery d = one(broker, "w", LONG);
        long at = System.currentTimeMillis();
        assertThat(d.message().id()).isEqualTo(later.id());
        assertThat(at).as("delivered at or after its ETA").isGreaterThanOrEqualTo(eta);
    }

    // ---------------------------------------------------------------- visibility timeouts

    @Test
    void aLapsedReservationIsRedeliveredAfterTheVisibilityAndNotBefore() throws Exception {
        TaskMessage m = msg("slow");
        broker.enqueue(m);
        long before = System.currentTimeMillis();
        Delivery first = one(broker, "dead-worker", SHORT);
        long reservedAt = System.currentTimeMillis();
        List<Delivery> early = none(broker, "w2", DEFAULT);
        if (System.currentTimeMillis() - before < VISIBILITY_MS) {
            assertThat(early).as("invisible to others while reserved").isEmpty();
        }
        List<Delivery> again = broker.reserve("w2", DEFAULT, 1, SHORT.plus(Duration.ofMinutes(1)), WAIT);
        long redeliveredAt = System.currentTimeMillis();
        assertThat(again).hasSize(1);
        Delivery second = again.getFirst();
        assertThat(second.message()).isEqualTo(first.message());
        assertThat(second.deliveryCount()).isEqualTo(2);
        assertThat(second.redelivered()).isTrue();
        assertThat(second.receipt()).isNotEqualTo(first.receipt());
        assertThat(redeliveredAt - before).as("not before the visibility timeout").isGreaterThanOrEqualTo(VISIBILITY_MS);
        assertThat(redeliveredAt - reservedAt).as("back within 2x the visibility timeout")
                .isLessThanOrEqualTo(2 * VISIBILITY_MS);
        BrokerStats stats = broker.stats();
        assertThat(stats.redelivered()).isEqualTo(1);
        assertThat(stats.delivered()).isEqualTo(2);
        TaskRecord r = rec(broker, m.id());
        assertThat(r.deliveries()).isEqualTo(2);
        assertThat(r.worker()).isEqualTo("w2");
        assertThat(r.attempt()).as("a redelivery is not an attempt").isZero();
    }

    @Test
    void extendKeepsTheMessageInvisible() throws Exception {
        broker.enqueue(msg("long"));
        Delivery d = one(broker, "w1", SHORT);
        assertThat(broker.extend(d, LONG)).isTrue();
        assertThat(broker.reserve("w2", DEFAULT, 1, LONG, Duration.ofMillis(3 * VISIBILITY_MS)))
                .as("an extended reservation does not lapse at its first timeout").isEmpty();
        assertThat(broker.stats().inFlight()).singleElement()
                .satisfies(f -> assertThat(f.visibleAgainMillis()).isGreaterThan(System.currentTimeMillis()));
        assertThat(broker.settle(d, new Success("null"))).isTrue();
        assertThat(broker.stats().redelivered()).isZero();
    }

    @Test
    void extendAfterTheMessageWasRedeliveredReturnsFalse() throws Exception {
        broker.enqueue(msg("lost"));
        Delivery first = one(broker, "w1", SHORT);
        Delivery second = one(broker, "w2", LONG);
        assertThat(second.deliveryCount()).isEqualTo(2);
        assertThat(broker.extend(first, LONG)).isFalse();
        assertThat(broker.extend(second, LONG)).isTrue();
    }

    @Test
    void aStaleSettlementAfterAnotherConsumerSettledIsDroppedAsADuplicate() throws Exception {
        TaskMessage m = msg("twice");
        broker.enqueue(m);
        Delivery first = one(broker, "w1", SHORT);
        Delivery second = one(broker, "w2", LONG);
        assertThat(broker.settle(second, new Success("\"second\""))).isTrue();
        assertThat(broker.settle(first, new Success("\"first\""))).as("the task is final").isFalse();
        assertThat(rec(broker, m.id()).resultJson()).isEqualTo("\"second\"");
        BrokerStats stats = broker.stats();
        assertThat(stats.duplicates()).isEqualTo(1);
        assertThat(stats.succeeded()).isEqualTo(1);
        assertThat(none(broker, "w3", DEFAULT)).isEmpty();
    }

    @Test
    void aStaleSettlementStillCountsIfTheTaskHasNoFinalStateYet() throws Exception {
        TaskMessage m = msg("twice");
        broker.enqueue(m);
        Delivery first = one(broker, "w1", SHORT);
        Delivery second = one(broker, "w2", LONG);
        assertThat(broker.settle(first, new Success("\"first\""))).isTrue();
        assertThat(broker.settle(second, new Success("\"second\""))).isFalse();
        assertThat(rec(broker, m.id()).resultJson()).isEqualTo("\"first\"");
        assertThat(broker.stats().duplicates()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- idempotency

    @Test
    void anIdempotencyKeySuppressesTheSecondEnqueueAndReturnsTheFirstId() throws Exception {
        TaskMessage first = withKey(msg("charge"), "order-17");
        TaskMessage again = withKey(msg("charge"), "order-17");
        assertThat(broker.enqueue(first)).isEqualTo(first.id());
        assertThat(broker.enqueue(again)).isEqualTo(first.id());
        assertThat(broker.record(again.id())).as("nothing stored for the duplicate").isEmpty();
        assertThat(broker.stats().duplicates()).isEqualTo(1);
        assertThat(broker.reserve("w", DEFAULT, 10, LONG, WAIT)).hasSize(1);
        TaskMessage inBatch = withKey(msg("charge"), "order-18");
        TaskMessage inBatchAgain = withKey(msg("charge"), "order-18");
        assertThat(broker.enqueueAll(List.of(inBatch, inBatchAgain, again)))
                .containsExactly(inBatch.id(), inBatch.id(), first.id());
        assertThat(broker.stats().duplicates()).isEqualTo(3);
    }

    @Test
    void anIdempotencyKeyHoldsAcrossBrokerInstances() {
        Broker other = second();
        TaskMessage first = withKey(msg("charge"), "k");
        broker.enqueue(first);
        assertThat(other.enqueue(withKey(msg("charge"), "k"))).isEqualTo(first.id());
    }

    // ---------------------------------------------------------------- settlements

    @Test
    void retryReenqueuesTheNextAttemptNotBeforeItsBackoff() throws Exception {
        TaskMessage m = msg("flaky");
        broker.enqueue(m);
        Delivery d = one(broker, "w", LONG);
        long notBefore = System.currentTimeMillis() + 400;
        assertThat(broker.settle(d, new Retry(notBefore, "boom"))).isTrue();
        TaskRecord r = rec(broker, m.id());
        assertThat(r.state()).isEqualTo(TaskState.RETRY);
        assertThat(r.error()).isEqualTo("boom");
        assertThat(none(broker, "w", DEFAULT)).as("not before the back-off").isEmpty();
        Delivery retried = one(broker, "w", LONG);
        assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(notBefore);
        assertThat(retried.message()).isEqualTo(m.nextAttempt(notBefore));
        assertThat(retried.message().attempt()).isEqualTo(1);
        assertThat(retried.deliveryCount()).as("a retry is a new attempt, not a redelivery").isEqualTo(1);
        TaskRecord again = rec(broker, m.id());
        assertThat(again.state()).isEqualTo(TaskState.RECEIVED);
        assertThat(again.attempt()).isEqualTo(1);
        assertThat(again.deliveries()).isEqualTo(2);
        assertThat(broker.stats().redelivered()).isZero();
    }

    @Test
    void failureWithDeadLetterShowsInDeadLettersNewestFirst() throws Exception {
        TaskMessage poison = msg("poison");
        TaskMessage bad = msg("bad");
        TaskMessage poison2 = msg("poison2");
        broker.enqueueAll(List.of(poison, bad, poison2));
        assertThat(broker.settle(one(broker, "w", LONG), new Failure("always throws", true))).isTrue();
        assertThat(broker.settle(one(broker, "w", LONG), new Failure("not retryable", false))).isTrue();
        assertThat(broker.settle(one(broker, "w", LONG), new Failure("again", true))).isTrue();
        TaskRecord r = rec(broker, poison.id());
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        assertThat(r.error()).isEqualTo("always throws");
        assertThat(broker.deadLetters(10)).extracting(TaskRecord::id).containsExactly(poison2.id(), poison.id());
        assertThat(broker.deadLetters(1)).extracting(TaskRecord::id).containsExactly(poison2.id());
        BrokerStats stats = broker.stats();
        assertThat(stats.deadLetters()).isEqualTo(2);
        assertThat(stats.failed()).isEqualTo(3);
        assertThat(none(broker, "w", DEFAULT)).isEmpty();
    }

    @Test
    void revokedSettlementRecordsRevoked() throws Exception {
        TaskMessage m = msg("cancelled");
        broker.enqueue(m);
        assertThat(broker.settle(one(broker, "w", LONG), new Revoked("by user"))).isTrue();
        TaskRecord r = rec(broker, m.id());
        assertThat(r.state()).isEqualTo(TaskState.REVOKED);
        assertThat(r.error()).isEqualTo("by user");
    }

    @Test
    void releasePutsTheMessageBackUnchanged() throws Exception {
        TaskMessage m = msg("prefetched");
        broker.enqueue(m);
        Delivery d = one(broker, "w1", LONG);
        assertThat(broker.settle(d, new Release())).isTrue();
        assertThat(rec(broker, m.id()).state()).isEqualTo(TaskState.PENDING);
        Delivery again = one(broker, "w2", LONG);
        assertThat(again.message()).isEqualTo(m);
        assertThat(again.deliveryCount()).isEqualTo(1);
        assertThat(again.message().attempt()).isZero();
        assertThat(broker.stats().redelivered()).isZero();
        assertThat(broker.settle(d, new Release())).as("a stale release is dropped").isFalse();
        assertThat(broker.reserve("w3", DEFAULT, 1, LONG, Duration.ZERO)).as("still held by w2").isEmpty();
    }

    // ---------------------------------------------------------------- revoke

    @Test
    void aRevokedQueuedTaskIsNeverDelivered() throws Exception {
        TaskMessage m = msg("unwanted");
        TaskMessage other = msg("wanted");
        broker.enqueueAll(List.of(m, other));
        assertThat(broker.revoke(m.id(), "changed my mind")).isTrue();
        TaskRecord r = rec(broker, m.id());
        assertThat(r.state()).isEqualTo(TaskState.REVOKED);
        assertThat(r.error()).isEqualTo("changed my mind");
        assertThat(broker.reserve("w", DEFAULT, 10, LONG, WAIT)).extracting(d -> d.message().id())
                .containsExactly(other.id());
        assertThat(broker.revoke(m.id(), "again")).as("already final").isFalse();
        assertThat(broker.revoke("no-such-task", "x")).as("unknown").isFalse();
        assertThat(broker.revokedAmong(List.of(m.id(), other.id(), "no-such-task"))).containsExactly(m.id());
    }

    @Test
    void aRunningTaskLearnsOfItsRevocationAndItsLateSuccessIsDropped() throws Exception {
        TaskMessage m = msg("running");
        broker.enqueue(m);
        Delivery d = one(broker, "w", SHORT);
        broker.started(d);
        assertThat(second().revoke(m.id(), "stop")).isTrue();
        assertThat(broker.revokedAmong(List.of(m.id()))).containsExactly(m.id());
        assertThat(broker.settle(d, new Success("1"))).isFalse();
        assertThat(rec(broker, m.id()).state()).isEqualTo(TaskState.REVOKED);
        assertThat(broker.reserve("w2", DEFAULT, 1, LONG, Duration.ofMillis(3 * VISIBILITY_MS)))
                .as("a revoked task's message is never delivered again").isEmpty();
    }

    // ---------------------------------------------------------------- canvas: chain

    @Test
    void aChainLinkIsEnqueuedWithTheSuccessOfItsParent() throws Exception {
        TaskMessage parent = msg("fetch");
        TaskMessage link = withParent(msg("parse"), parent.id());
        broker.enqueue(withLink(parent, link));
        Delivery d = one(broker, "w", LONG);
        assertThat(broker.record(link.id())).as("not before the parent's success").isEmpty();
        assertThat(broker.reserve("w", DEFAULT, 1, LONG, Duration.ZERO)).isEmpty();
        assertThat(broker.settle(d, new Success("\"page\""))).isTrue();
        assertThat(rec(broker, link.id()).state()).isEqualTo(TaskState.PENDING);
        Delivery next = one(broker, "w", LONG);
        assertThat(next.message()).isEqualTo(link);
        assertThat(next.message().parentId()).isEqualTo(parent.id());
    }

    @Test
    void aFailedParentEnqueuesNoLink() throws Exception {
        TaskMessage parent = msg("fetch");
        TaskMessage link = withParent(msg("parse"), parent.id());
        broker.enqueue(withLink(parent, link));
        assertThat(broker.settle(one(broker, "w", LONG), new Failure("404", true))).isTrue();
        assertThat(broker.record(link.id())).isEmpty();
        assertThat(none(broker, "w", DEFAULT)).isEmpty();
    }

    // ---------------------------------------------------------------- canvas: chord

    @Test
    void aChordCallbackIsEnqueuedOnlyAfterTheLastMemberSucceeds() throws Exception {
        String chord = "chord-" + UUID.randomUUID();
        TaskMessage a = inChord(msg("part"), chord);
        TaskMessage b = inChord(msg("part"), chord);
        TaskMessage callback = callbackOf(chord, "callbacks");
        broker.openChord(chord, List.of(a.id(), b.id()), callback);
        assertThat(rec(broker, callback.id()).state()).as("polled like any task at once").isEqualTo(TaskState.PENDING);
        assertThat(broker.chordMembers(chord)).containsExactly(a.id(), b.id());
        broker.enqueueAll(List.of(a, b));
        List<Delivery> members = broker.reserve("w", DEFAULT, 2, LONG, WAIT);
        assertThat(members).hasSize(2);
        assertThat(broker.settle(members.get(1), new Success("2"))).isTrue();
        assertThat(none(broker, "w", List.of("callbacks"))).as("one member still running").isEmpty();
        assertThat(broker.settle(members.get(0), new Success("1"))).isTrue();
        List<Delivery> cb = broker.reserve("w", List.of("callbacks"), 10, LONG, WAIT);
        assertThat(cb).extracting(Delivery::message).containsExactly(callback);
    }

    @Test
    void aChordCallbackIsEnqueuedExactlyOnceWhenTwoMembersSettleAtOnce() throws Exception {
        Broker other = second();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 10; round++) {
                String chord = "chord-" + round + "-" + UUID.randomUUID();
                String callbacks = "callbacks-" + round;
                TaskMessage a = inChord(msg("part"), chord);
                TaskMessage b = inChord(msg("part"), chord);
                TaskMessage callback = callbackOf(chord, callbacks);
                broker.openChord(chord, List.of(a.id(), b.id()), callback);
                broker.enqueueAll(List.of(a, b));
                List<Delivery> members = broker.reserve("w", DEFAULT, 2, LONG, WAIT);
                assertThat(members).hasSize(2);
                CyclicBarrier together = new CyclicBarrier(2);
                Future<Boolean> first = pool.submit(() -> {
                    together.await();
                    return broker.settle(members.get(0), new Success("1"));
                });
                Future<Boolean> last = pool.submit(() -> {
                    together.await();
                    return other.settle(members.get(1), new Success("2"));
                });
                assertThat(first.get(30, TimeUnit.SECONDS)).isTrue();
                assertThat(last.get(30, TimeUnit.SECONDS)).isTrue();
                List<Delivery> cb = broker.reserve("w", List.of(callbacks), 10, LONG, WAIT);
                assertThat(cb).as("round %d", round).extracting(Delivery::message).containsExactly(callback);
                assertThat(none(broker, "w", List.of(callbacks))).isEmpty();
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aDeadLetteredMemberFailsTheChordCallback() throws Exception {
        String chord = "chord-" + UUID.randomUUID();
        TaskMessage a = inChord(msg("part"), chord);
        TaskMessage b = inChord(msg("part"), chord);
        TaskMessage callback = callbackOf(chord, "callbacks");
        broker.openChord(chord, List.of(a.id(), b.id()), callback);
        broker.enqueueAll(List.of(a, b));
        List<Delivery> members = broker.reserve("w", DEFAULT, 2, LONG, WAIT);
        assertThat(broker.settle(members.get(0), new Failure("poison", true))).isTrue();
        TaskRecord cbRecord = rec(broker, callback.id());
        assertThat(cbRecord.state()).isEqualTo(TaskState.FAILURE);
        assertThat(cbRecord.error()).contains(a.id());
        assertThat(broker.settle(members.get(1), new Success("2"))).isTrue();
        assertThat(none(broker, "w", List.of("callbacks"))).as("a failed chord never calls back").isEmpty();
        assertThat(rec(broker, callback.id()).state()).isEqualTo(TaskState.FAILURE);
    }

    // ---------------------------------------------------------------- shared rate limits

    @Test
    void permitsAreSharedAcrossBrokerInstances() throws Exception {
        Broker other = second();
        // 1 permit/s: the bucket cannot refill between the burst's calls unless the machine stalls for a second.
        assertThat(broker.tryAcquirePermit("api", 1.0, 3)).isZero();
        assertThat(other.tryAcquirePermit("api", 1.0, 3)).isZero();
        assertThat(broker.tryAcquirePermit("api", 1.0, 3)).isZero();
        long wait = other.tryAcquirePermit("api", 1.0, 3);
        assertThat(wait).as("the burst is spent across both instances").isBetween(1L, 1000L);
        assertThat(broker.tryAcquirePermit("other-key", 1.0, 1)).as("buckets are per key").isZero();
        CountDownLatch never = new CountDownLatch(1);
        // waiting the time the broker named is the point of the test, not a race
        assertThat(never.await(wait + 50, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(broker.tryAcquirePermit("api", 1.0, 3)).as("refilled after the named wait").isZero();
    }

    @Test
    void permitArgumentsAreValidated() {
        assertThatThrownBy(() -> broker.tryAcquirePermit("k", 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permitsPerSecond");
        assertThatThrownBy(() -> broker.tryAcquirePermit("k", 1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("burst");
    }

    // ---------------------------------------------------------------- purge, stats

    @Test
    void purgeRemovesQueuedMessagesAndRevokesTheirTasks() throws Exception {
        TaskMessage held = msg("held", "q", 9, 0);
        TaskMessage q1 = msg("q1", "q", 0, 0);
        TaskMessage q2 = msg("q2", "q", 0, System.currentTimeMillis() + 60_000);
        TaskMessage elsewhere = msg("e", "other", 0, 0);
        broker.enqueueAll(List.of(held, q1, q2, elsewhere));
        Delivery d = broker.reserve("w", List.of("q"), 1, LONG, WAIT).getFirst();
        assertThat(d.message().id()).isEqualTo(held.id());
        assertThat(broker.purge("q")).isEqualTo(2);
        assertThat(rec(broker, q1.id()).state()).isEqualTo(TaskState.REVOKED);
        assertThat(rec(broker, q2.id()).error()).isEqualTo("purged");
        assertThat(broker.stats().queued().getOrDefault("q", 0L)).isZero();
        assertThat(broker.stats().queued()).containsEntry("other", 1L);
        assertThat(broker.stats().inFlight()).extracting(BrokerStats.InFlight::taskId).containsExactly(held.id());
        assertThat(broker.settle(d, new Success("1"))).as("a reserved message is not purged").isTrue();
        assertThat(broker.purge("q")).isZero();
    }

    @Test
    void statsShowQueuesInFlightAndCounters() throws Exception {
        broker.enqueueAll(List.of(msg("a", "q1", 0, 0), msg("b", "q1", 0, 0), msg("c", "q2", 0, 0)));
        long before = System.currentTimeMillis();
        Delivery d = broker.reserve("worker-7", List.of("q2"), 1, LONG, WAIT).getFirst();
        BrokerStats stats = broker.stats();
        assertThat(stats.queued()).containsEntry("q1", 2L);
        assertThat(stats.queued().getOrDefault("q2", 0L)).isZero();
        assertThat(stats.inFlight()).singleElement().satisfies(f -> {
            assertThat(f.taskId()).isEqualTo(d.message().id());
            assertThat(f.name()).isEqualTo("c");
            assertThat(f.consumer()).isEqualTo("worker-7");
            assertThat(f.visibleAgainMillis()).isGreaterThanOrEqualTo(before + LONG.toMillis());
        });
        assertThat(stats.delivered()).isEqualTo(1);
        assertThat(stats.deadLetters()).isZero();
        broker.settle(d, new Failure("x", false));
        assertThat(second().stats().failed()).as("counters live in the store").isEqualTo(1);
    }

    // ---------------------------------------------------------------- durability

    @Test
    void messagesAndRecordsSurviveCloseAndReopen() throws Exception {
        TaskMessage done = msg("done");
        TaskMessage waiting = msg("waiting", "default", 5, 0);
        TaskMessage keyed = withKey(msg("keyed"), "key-1");
        broker.enqueue(done);
        assertThat(broker.settle(one(broker, "w", LONG), new Success("\"ok\""))).isTrue();
        broker.enqueueAll(List.of(waiting, keyed));
        broker.close();
        broker.close(); // idempotent

        Broker reopened = second();
        assertThat(rec(reopened, done.id()).resultJson()).isEqualTo("\"ok\"");
        assertThat(rec(reopened, waiting.id()).state()).isEqualTo(TaskState.PENDING);
        assertThat(reopened.enqueue(withKey(msg("keyed"), "key-1"))).isEqualTo(keyed.id());
        assertThat(reopened.stats().succeeded()).isEqualTo(1);
        List<Delivery> got = reopened.reserve("w", DEFAULT, 10, LONG, WAIT);
        assertThat(got).extracting(Delivery::message).containsExactly(waiting, keyed);
    }

    @Test
    void aReservationSurvivesARestartAndLapsesAfterIt() throws Exception {
        TaskMessage m = msg("in-flight");
        broker.enqueue(m);
        one(broker, "dies", SHORT);
        broker.close();
        Broker reopened = second();
        Delivery again = one(reopened, "w2", LONG);
        assertThat(again.message()).isEqualTo(m);
        assertThat(again.deliveryCount()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- blocking reserve

    @Test
    void aBlockedReserveWakesForAnEnqueue() throws Exception {
        for (Broker producer : List.of(broker, second())) {
            CountDownLatch started = new CountDownLatch(1);
            ExecutorService consumer = Executors.newSingleThreadExecutor();
            try {
                Future<List<Delivery>> got = consumer.submit(() -> {
                    started.countDown();
                    return broker.reserve("w", DEFAULT, 1, LONG, Duration.ofSeconds(30));
                });
                started.await();
                TaskMessage m = msg("wake");
                long sent = System.nanoTime();
                producer.enqueue(m);
                List<Delivery> delivered = got.get(30, TimeUnit.SECONDS);
                long tookMs = (System.nanoTime() - sent) / 1_000_000;
                assertThat(delivered).extracting(d -> d.message().id()).containsExactly(m.id());
                assertThat(tookMs).as("woke long before its 30 s wait").isLessThan(5_000);
            } finally {
                consumer.shutdownNow();
                assertThat(consumer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aBlockedReserveIsInterruptible() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] thrown = new Throwable[1];
        Thread t = Thread.ofPlatform().name("blocked-reserve").start(() -> {
            try {
                broker.reserve("w", DEFAULT, 1, LONG, Duration.ofSeconds(60));
            } catch (Throwable e) {
                thrown[0] = e;
            } finally {
                done.countDown();
            }
        });
        // Wait (without a sleep) until the thread is parked in the reserve's wait.
        while (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING
                && done.getCount() > 0) {
            Thread.onSpinWait();
        }
        t.interrupt();
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        t.join();
        assertThat(thrown[0]).isInstanceOf(InterruptedException.class);
    }

    @Test
    void argumentsAreValidated() {
        assertThatThrownBy(() -> broker.reserve("w", DEFAULT, 0, LONG, WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max");
        assertThatThrownBy(() -> broker.reserve("w", List.of(), 1, LONG, WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queues");
        assertThatThrownBy(() -> broker.reserve("w", DEFAULT, 1, Duration.ZERO, WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("visibility");
        assertThatThrownBy(() -> broker.enqueue(null)).isInstanceOf(NullPointerException.class);
        TaskMessage parent = msg("p");
        TaskMessage badLink = withParent(msg("l"), "someone-else");
        assertThatThrownBy(() -> broker.enqueue(withLink(parent, badLink)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parentId");
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void fourConsumersOnTwoInstancesGetEachOfAThousandMessagesExactlyOnce() throws Exception {
        int total = 1_000;
        List<TaskMessage> batch = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            batch.add(msg("n" + i));
        }
        broker.enqueueAll(batch);
        Broker other = second();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        AtomicInteger settled = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> consumers = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                Broker b = c % 2 == 0 ? broker : other;
                String name = "c" + c;
                consumers.add(pool.submit(() -> {
                    go.await();
                    while (settled.get() < total) {
                        List<Delivery> got = b.reserve(name, DEFAULT, 16, LONG, Duration.ofMillis(200));
                        for (Delivery d : got) {
                            seen.merge(d.message().id(), 1, Integer::sum);
                            if (b.settle(d, new Success("0"))) {
                                settled.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : consumers) {
                f.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen).hasSize(total);
        Set<Integer> counts = new HashSet<>(seen.values());
        assertThat(counts).as("each delivered exactly once").containsExactly(1);
        BrokerStats stats = broker.stats();
        assertThat(stats.delivered()).isEqualTo(total);
        assertThat(stats.succeeded()).isEqualTo(total);
        assertThat(stats.duplicates()).isZero();
    }
}
