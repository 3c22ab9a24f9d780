package dev.conclab.jobs.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.canvas.Chain;
import dev.conclab.jobs.canvas.Chord;
import dev.conclab.jobs.canvas.Group;
import dev.conclab.jobs.canvas.Signature;
import dev.conclab.jobs.task.Json;
import dev.conclab.jobs.task.SubmitException;
import dev.conclab.jobs.task.TaskDefinition;
import dev.conclab.jobs.task.TaskRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Submits tasks and canvases to a broker and reads their records: the producer side of the task queue (Celery's
 * {@code apply_async}, {@code AsyncResult.get}, {@code revoke}).
 *
 * <p><b>Validation.</b> Every submission is checked against the registry before anything is stored: an unknown
 * task, arguments that are not a JSON array, the wrong number of arguments or an argument of a declared type it
 * does not have throw {@link SubmitException} naming the task and what was expected against what was given.
 *
 * <p><b>Guarantees.</b> When a submit method returns, the task is durably stored (see {@link Broker#enqueue}); a
 * canvas is stored whole or, on an exception, possibly in part (a chord's callback is registered before its
 * members). With an idempotency key, a second submission returns the first one's id and stores nothing.
 *
 * <p><b>Thread safety and blocking.</b> Safe for use by any number of threads. Submissions do one round trip to
 * the broker (a chord: two); {@link #await} blocks, polling the record, until the task is final or the timeout
 * passes. The client does not own the broker: closing the broker is the caller's business.
 */
public final class JobClient {

    private final Broker broker;
    private final TaskRegistry registry;
    private final LongSupplier clockMillis;

    /** A client on the system clock. */
    public JobClient(Broker broker, TaskRegistry registry) {
        this(broker, registry, System::currentTimeMillis);
    }

    /** A client whose ETAs and submission times come from {@code clockMillis} (epoch milliseconds). */
    public JobClient(Broker broker, TaskRegistry registry, LongSupplier clockMillis) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
    }

    /** The registry submissions are checked against. */
    public TaskRegistry registry() {
        return registry;
    }

    /** Submits {@code name(args...)} with the task's defaults; returns the task id. */
    public String submit(String name, Object... args) {
        return submit(name, SubmitOptions.DEFAULTS, args);
    }

    /** Submits {@code name(args...)} with overrides; returns the task id (the first one's, for a duplicate key). */
    public String submit(String name, SubmitOptions options, Object... args) {
        return submit(new Signature(name, Arrays.asList(args), options));
    }

    /** Submits one call; returns the task id. */
    public String submit(Signature signature) {
        return broker.enqueue(message(signature, 0, null, null, null, null));
    }

    /**
     * Submits a call whose arguments are given as JSON text (the CLI's way): the text must be a JSON array matching
     * the task's parameters.
     */
    public String submitJson(String name, String argsJson, SubmitOptions options) {
        List<JsonNode> args = registry.validate(name, argsJson, 0);
        return broker.enqueue(build(registry.get(name), Json.write(args), options, null, null, null, null));
    }

    /**
     * Submits a chain: only its first step is enqueued now; each next one rides on its parent's message and is
     * enqueued by the broker when the parent succeeds. Options are per step; a countdown or ETA counts from the
     * chain's submission. An idempotency key belongs on the first step: if it matches an earlier submission, the
     * whole chain is suppressed and only the earlier first step's id is returned.
     *
     * @return the ids of the steps, in order (the last is the chain's result)
     */
    public List<String> submit(Chain chain) {
        List<Signature> steps = chain.steps();
        List<String> ids = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            ids.add(newId());
        }
        TaskMessage next = null;
        for (int i = steps.size() - 1; i >= 0; i--) {
            String parent = i == 0 ? null : ids.get(i - 1);
            next = message(steps.get(i), i == 0 ? 0 : 1, ids.get(i), parent, next, null);
        }
        String first = broker.enqueue(next);
        if (!first.equals(ids.get(0))) {
            return List.of(first); // the first step's idempotency key matched: this chain was suppressed whole
        }
        return List.copyOf(ids);
    }

    /** Submits the members of a group together; returns their ids in member order. */
    public List<String> submit(Group group) {
        List<TaskMessage> messages = new ArrayList<>();
        for (Signature member : group.members()) {
            messages.add(message(member, 0, null, null, null, null));
        }
        return List.copyOf(broker.enqueueAll(messages));
    }

    /**
     * Submits a chord: registers the callback with the broker, then enqueues the members.
     *
     * @return the callback's task id (its record is PENDING at once, final when the chord is)
     */
    public String submit(Chord chord) {
        String chordId = newId();
        List<TaskMessage> members = new ArrayList<>();
        for (Signature member : chord.header().members()) {
            if (member.options().idempotencyKey() != null) {
                throw new SubmitException("chord member '" + member.name()
                        + "': idempotency keys are not supported inside a chord (a suppressed member would never"
                        + " count down the chord)");
            }
            members.add(message(member, 0, null, null, null, chordId));
        }
        TaskMessage callback = message(chord.callback(), 1, null, null, null, null);
        callback = withChordResultsOf(callback, chordId);
        broker.openChord(chordId, members.stream().map(TaskMessage::id).toList(), callback);
        broker.enqueueAll(members);
        return callback.id();
    }

    /** The task's record now, or empty if the broker never accepted this id (or a chain step not yet enqueued). */
    public Optional<TaskRecord> status(String taskId) {
        return broker.record(Objects.requireNonNull(taskId, "taskId"));
    }

    /**
     * Waits until the task is final (SUCCESS, FAILURE or REVOKED) and returns its record. Polls the broker, backing
     * off from 1 ms to 50 ms between polls; an id not yet known (a chain's later step) is waited for too.
     *
     * @throws TimeoutException     if it is not final within {@code timeout}
     * @throws InterruptedException if interrupted while waiting
     */
    public TaskRecord await(String taskId, Duration timeout) throws TimeoutException, InterruptedException {
        Objects.requireNonNull(taskId, "taskId");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be >= 0, was " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMillis = 1;
        while (true) {
            Optional<TaskRecord> record = broker.record(taskId);
            if (record.isPresent() && record.get().state().isFinal()) {
                return record.get();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("task " + taskId + " not final after " + timeout + "; now "
                        + record.map(r -> r.state().name()).orElse("unknown"));
            }
            TimeUnit.MILLISECONDS.sleep(Math.min(pauseMillis, TimeUnit.NANOSECONDS.toMillis(left) + 1));
            pauseMillis = Math.min(50, pauseMillis * 2);
        }
    }

    /** Revokes a task (see {@link Broker#revoke}); false if it is unknown or already final. */
    public boolean revoke(String taskId, String reason) {
        return broker.revoke(Objects.requireNonNull(taskId, "taskId"), Objects.requireNonNull(reason, "reason"));
    }

    private TaskMessage message(Signature signature, int leading, String id, String parentId, TaskMessage link,
                                String chordId) {
        TaskDefinition definition = registry.get(signature.name());
        JsonNode args;
        try {
            args = Json.MAPPER.valueToTree(signature.args());
        } catch (IllegalArgumentException e) {
            throw new SubmitException("task '" + signature.name() + "': arguments are not JSON-able: "
                    + e.getMessage(), e);
        }
        List<JsonNode> elements = new ArrayList<>();
        args.forEach(elements::add);
        definition.check(elements, leading);
        return build(definition, Json.write(args), signature.options(), id, parentId, link, chordId);
    }

    private TaskMessage build(TaskDefinition definition, String argsJson, SubmitOptions o, String id,
                              String parentId, TaskMessage link, String chordId) {
        long now = clockMillis.getAsLong();
        long notBefore = 0;
        if (o.countdown() != null) {
            notBefore = now + o.countdown().toMillis();
        }
        if (o.eta() != null) {
            notBefore = Math.max(notBefore, o.eta().toEpochMilli());
        }
        return new TaskMessage(
                id == null ? newId() : id,
                definition.name(),
                argsJson,
                o.queue() != null ? o.queue() : definition.queue(),
                o.priority() != null ? o.priority() : 0,
                Math.max(0, notBefore),
                0,
                o.maxRetries() != null ? o.maxRetries() : definition.maxRetries(),
                o.idempotencyKey(),
                (o.softLimit() != null ? o.softLimit() : definition.softLimit()).toMillis(),
                (o.hardLimit() != null ? o.hardLimit() : definition.hardLimit()).toMillis(),
                parentId,
                link,
                chordId,
                null,
                now);
    }

    private static TaskMessage withChordResultsOf(TaskMessage m, String chordId) {
        return new TaskMessage(m.id(), m.name(), m.argsJson(), m.queue(), m.priority(), m.notBeforeMillis(),
                m.attempt(), m.maxRetries(), m.idempotencyKey(), m.softLimitMillis(), m.hardLimitMillis(),
                m.parentId(), m.link(), m.chordId(), chordId, m.submittedMillis());
    }

    private static String newId() {
        return UUID.randomUUID().toString();
    }
}
