package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerStats;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.task.TaskState;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XReadParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A {@link Broker} on Redis Streams, for workers on many machines sharing one Redis server.
 *
 * <p><b>Layout.</b> Each queue has one stream per priority (0..9) with one consumer group; a stream entry carries
 * only the task id, the message itself lives in the task's hash together with its record. Messages with a future
 * ETA wait in a sorted set per queue and are moved into their stream when due. Every key starts with the
 * configured {@linkplain RedisBrokerConfig#prefix prefix}, so several task systems can share a server.
 *
 * <p><b>Reservations.</b> {@link #reserve} runs one Lua script that moves due ETA messages into their streams, then,
 * per priority from the highest, first reclaims lapsed reservations and then reads new entries
 * ({@code XREADGROUP}), marking each delivered task RECEIVED in the same step. The consumer group's pending list
 * says who holds an entry; a sorted set per stream (entry id by deadline) says until when, so each reservation
 * lapses after its own visibility timeout, and a reserve finds the lapsed ones with one range query and claims them
 * with {@code XCLAIM}. (Not {@code XAUTOCLAIM}: it scans the pending list in id order with one min-idle for all;
 * with 20,000 reserved messages one reserve took 50-70 ms of server time scanning.) {@link #extend} moves the
 * deadline and re-claims the entry to the same consumer, resetting its idle time in the pending list.
 *
 * <p><b>Waiting.</b> If nothing is ready, {@code reserve} waits in a blocking {@code XREAD} from the end of each
 * of its streams, on a pooled connection of its own, in slices of at most {@value #MAX_BLOCK_MILLIS} ms and never
 * past the next ETA or the next lapse; then it runs the script again. The wait consumes nothing: a blocking
 * {@code XREADGROUP} would reserve entries outside the script, without a deadline and without their records
 * saying so. It is interruptible at once.
 *
 * <p>A {@linkplain Delivery#receipt receipt} is {@code "<stream entry id>#<generation>"}, the generation counting
 * every delivery of the task, so that a redelivered message gets a new receipt although its entry stays the same.
 *
 * <p><b>Atomicity.</b> Enqueue, reserve, settle, revoke, chord registration, purge and the rate-limit bucket are
 * each one Lua script, run atomically by the server: a settlement's record, acknowledgement ({@code XACK} and
 * {@code XDEL}), retry, chain link and chord count-down (with its callback) happen together or not at all. Times
 * come from the server's clock ({@code TIME}), the one clock all machines share.
 *
 * <p><b>Batches.</b> {@link #enqueueAll}, {@link #startedAll} and {@link #settleAll} send one script per chunk of
 * {@value #ENQUEUE_CHUNK} (a chunk is applied atomically as a whole, each item as its single-call method would), so
 * a batch costs one round trip and one script call on the server instead of one each: that is what lets two workers
 * pass 15,000 no-op tasks per second through one server.
 *
 * <p><b>Durability</b> is the server's. With {@code appendonly yes} and {@code appendfsync always} an acknowledged
 * enqueue or settlement survives a crash of the server (the restart test kills it with SIGKILL); with
 * {@code appendfsync everysec} up to about a second of writes may be lost; with Redis's default (no append-only file,
 * periodic snapshots) minutes may be. Records, idempotency keys and dead letters are kept until deleted by hand: no
 * expiry yet.
 *
 * <p><b>Failures.</b> {@code reserve} survives an outage of the server: connection errors are retried with a
 * capped back-off until its wait ends (then it returns an empty list), so a worker outlives a broker restart. Every
 * other method retries a lost connection once (on a fresh connection) and then throws the client's
 * {@link JedisConnectionException}.
 *
 * <p><b>Thread safety.</b> Safe for any number of threads; connections come from a pool of
 * {@link RedisBrokerConfig#maxConnections} (each waiting reserve holds one for its wait). Any number of broker
 * instances, in any number of processes, may share one server and prefix.
 */
public final class RedisBroker implements Broker {

    /** The longest single blocking read; a waiting reserve re-checks lapsed reservations at least this often. */
    static final int MAX_BLOCK_MILLIS = 500;
    private static final Duration LONGEST_WAIT = Duration.ofDays(365);
    /** Messages, starts or settlements per script call in the batch methods. */
    private static final int ENQUEUE_CHUNK = 500;
    private final RedisBrokerConfig config;
    private final JedisPool pool;
    private final RedisScripts scripts = RedisScripts.INSTANCE;
    private final LongAdder connectionFailures = new LongAdder();
    private volatile boolean closed;

    private RedisBroker(RedisBrokerConfig config) {
        this.config = config;
        GenericObjectPoolConfig<Jedis> poolConfig = new GenericObjectPoolConfig<>();
        poolConfig.setMaxTotal(config.maxConnections());
        poolConfig.setMaxIdle(config.maxConnections());
        poolConfig.setMinIdle(0);
        poolConfig.setBlockWhenExhausted(true);
        poolConfig.setMaxWait(config.timeout());
        poolConfig.setJmxEnabled(false);
        int timeout = (int) config.timeout().toMillis();
        this.pool = new JedisPool(poolConfig, new HostAndPort(config.host(), config.port()),
                DefaultJedisClientConfig.builder()
                        .connectionTimeoutMillis(timeout)
                        .socketTimeoutMillis(timeout)
                        .blockingSocketTimeoutMillis(timeout + MAX_BLOCK_MILLIS)
                        .database(config.database())
                        .clientName("conclab-jobs")
                        // The scripts read RESP2 replies; asking for no negotiation also stops Jedis 8 warning once
                        // per connection that it will not negotiate RESP3.
                        .autoNegotiateProtocol(false)
                        .build());
    }

    /** A broker on the given server; connects lazily (the server may come up later). */
    public static RedisBroker open(RedisBrokerConfig config) {
        return new RedisBroker(Objects.requireNonNull(config, "config"));
    }

    /** A broker for {@code redis://host:port[/db][?prefix=...]}. */
    public static RedisBroker open(String url) {
        return open(RedisBrokerConfig.fromUrl(url));
    }

    /** Where this broker keeps its data. */
    public RedisBrokerConfig config() {
        return config;
    }

    // ---- enqueue

    @Override
    public String enqueue(TaskMessage message) {
        Objects.requireNonNull(message, "message");
        return enqueueAll(List.of(message)).getFirst();
    }

    /** One script per chunk of {@value #ENQUEUE_CHUNK} messages, the chunks pipelined: each chunk is atomic. */
    @Override
    public List<String> enqueueAll(List<TaskMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        messages.forEach(m -> requireConsistentLinks(Objects.requireNonNull(m, "a message in the batch is null")));
        if (messages.isEmpty()) {
            return List.of();
        }
        return withJedis(jedis -> {
            List<List<String>> calls = new ArrayList<>();
            for (int from = 0; from < messages.size(); from += ENQUEUE_CHUNK) {
                List<TaskMessage> chunk = messages.subList(from, Math.min(messages.size(), from + ENQUEUE_CHUNK));
                List<String> args = new ArrayList<>(2 + chunk.size() * TaskMessageJson.SPEC);
                args.add(config.prefix());
                args.add(Integer.toString(chunk.size()));
                chunk.forEach(m -> TaskMessageJson.appendSpec(args, m));
                calls.add(args);
            }
            List<String> ids = new ArrayList<>(messages.size());
            if (calls.size() == 1) {
                strings(scripts.enqueue.eval(jedis, calls.getFirst()), ids);
                return ids;
            }
            scripts.enqueue.ensureLoaded(jedis);
            Pipeline p = jedis.pipelined();
            List<Response<Object>> responses = calls.stream().map(a -> scripts.enqueue.eval(p, a)).toList();
            p.sync();
            responses.forEach(r -> strings(r.get(), ids));
            return ids;
        });
    }

    // ---- reserve

    @Override
    public List<Delivery> reserve(String consumer, List<String> queues, int max, Duration visibility, Duration wait)
            throws InterruptedException {
        requireName(consumer, "consumer");
        Objects.requireNonNull(queues, "queues");
        if (queues.isEmpty()) {
            throw new IllegalArgumentException("queues is empty: reserve needs at least one queue");
        }
        queues.forEach(RedisBroker::requireQueueName);
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, was " + max);
        }
        requireVisibility(visibility);
        Objects.requireNonNull(wait, "wait");
        if (wait.isNegative()) {
            throw new IllegalArgumentException("wait must be >= 0, was " + wait);
        }
        // saturate: a wait of years must not overflow the deadline arithmetic
        long deadline = System.nanoTime() + (wait.compareTo(LONGEST_WAIT) > 0 ? LONGEST_WAIT : wait).toNanos();
        CappedBackoff backoff = new CappedBackoff(Duration.ofMillis(20), Duration.ofSeconds(1));
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("reserve interrupted");
            }
            try {
                ReserveResult result = runReserve(consumer, queues, max, visibility);
                backoff.reset();
                if (!result.deliveries().isEmpty()) {
                    return result.deliveries();
                }
                long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMillis <= 0) {
                    return List.of();
                }
                long block = Math.min(leftMillis, MAX_BLOCK_MILLIS);
                if (result.wakeInMillis() >= 0) {
                    block = Math.min(block, result.wakeInMillis() + 1);
                }
                awaitNewEntries(result.streamEnds(), (int) Math.max(1, block));
            } catch (JedisConnectionException e) {
                // the server is down or restarting: wait and try again until the caller's wait is over
                if (System.nanoTime() - deadline >= 0) {
                    return List.of();
                }
                backoff.pause(deadline);
            } catch (JedisDataException e) {
                if (!String.valueOf(e.getMessage()).startsWith("LOADING")) {
                    throw e;
                }
                if (System.nanoTime() - deadline >= 0) {
                    return List.of(); // the restarted server is still loading its append-only file
                }
                backoff.pause(deadline);
            }
        }
    }

    /**
     * What one pass of the reserve script found: deliveries, or when to look again (-1: only when woken) and where
     * each stream ended.
     */
    private record ReserveResult(List<Delivery> deliveries, long wakeInMillis, Map<String, StreamEntryID> streamEnds) {
    }

    private ReserveResult runReserve(String consumer, List<String> queues, int max, Duration visibility) {
        List<String> args = new ArrayList<>(5 + queues.size());
        args.add(config.prefix());
        args.add(consumer);
        args.add(Integer.toString(max));
        args.add(Long.toString(visibility.toMillis()));
        args.add(Integer.toString(queues.size()));
        args.addAll(queues);
        List<?> out = (List<?>) withJedis(jedis -> scripts.reserve.eval(jedis, args));
        int n = ((Long) out.getFirst()).intValue();
        if (n > 0) {
            List<Delivery> deliveries = new ArrayList<>(n);
            for (int i = 1; i + 3 < out.size(); i += 4) {
                TaskMessage message = TaskMessageJson.read((String) out.get(i + 3));
                deliveries.add(new Delivery(message, consumer, (String) out.get(i + 1),
                        ((Long) out.get(i + 2)).intValue()));
            }
            return new ReserveResult(deliveries, -1, Map.of());
        }
        long wake = (Long) out.get(1);
        int streams = ((Long) out.get(2)).intValue();
        Map<String, StreamEntryID> ends = new LinkedHashMap<>();
        for (int i = 0; i < streams; i++) {
            ends.put((String) out.get(3 + 2 * i), new StreamEntryID((String) out.get(4 + 2 * i)));
        }
        return new ReserveResult(List.of(), wake, ends);
    }

    /**
     * Waits until an entry is added after the given stream ends, or the block time passes. The wait is a plain
     * blocking XREAD (it consumes nothing: all reservations are made by the reserve script, atomically with their
     * records, so a worker that dies while waiting strands nothing). It runs on a virtual thread with a pooled
     * connection of its own, and the caller waits for it interruptibly.
     */
    private void awaitNewEntries(Map<String, StreamEntryID> ends, int blockMillis) throws InterruptedException {
        CompletableFuture<Void> woken = new CompletableFuture<>();
        Thread.ofVirtual().name("redis-broker-wait").start(() -> {
            try {
                withJedis(jedis -> jedis.xread(XReadParams.xReadParams().count(1).block(blockMillis), ends));
                woken.complete(null);
            } catch (Throwable e) {
                woken.completeExceptionally(e);
            }
        });
        try {
            woken.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    // ---- running and settling

    @Override
    public boolean extend(Delivery delivery, Duration visibility) {
        Objects.requireNonNull(delivery, "delivery");
        requireVisibility(visibility);
        TaskMessage m = delivery.message();
        return 1L == (Long) withJedis(jedis -> scripts.extend.eval(jedis, List.of(config.prefix(), m.id(),
                delivery.receipt(), delivery.consumer(), m.queue(), Integer.toString(m.priority()),
                Long.toString(visibility.toMillis()))));
    }

    /** A stale delivery (its reservation lapsed and the message went to another consumer) marks nothing. */
    @Override
    public void started(Delivery delivery) {
        Objects.requireNonNull(delivery, "delivery");
        startedAll(List.of(delivery));
    }

    /** One script for the batch (up to {@value #ENQUEUE_CHUNK} per script): one round trip. Stale ones mark nothing. */
    @Override
    public void startedAll(List<Delivery> deliveries) {
        Objects.requireNonNull(deliveries, "deliveries");
        deliveries.forEach(d -> Objects.requireNonNull(d, "a delivery in the batch is null"));
        for (int from = 0; from < deliveries.size(); from += ENQUEUE_CHUNK) {
            List<Delivery> chunk = deliveries.subList(from, Math.min(deliveries.size(), from + ENQUEUE_CHUNK));
            List<String> args = new ArrayList<>(1 + 3 * chunk.size());
            args.add(config.prefix());
            for (Delivery d : chunk) {
                args.add(d.message().id());
                args.add(d.consumer());
                args.add(d.receipt());
            }
            withJedis(jedis -> scripts.started.eval(jedis, args));
        }
    }

    @Override
    public boolean settle(Delivery delivery, Settlement settlement) {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(settlement, "settlement");
        return settleAll(List.of(delivery), List.of(settlement)).getFirst();
    }

    /**
     * One script per chunk of {@value #ENQUEUE_CHUNK} settlements, run in the order given: each settlement keeps its
     * own guarantees, and the chunk is applied atomically as a whole.
     */
    @Override
    public List<Boolean> settleAll(List<Delivery> deliveries, List<Settlement> settlements) {
        Objects.requireNonNull(deliveries, "deliveries");
        Objects.requireNonNull(settlements, "settlements");
        if (deliveries.size() != settlements.size()) {
            throw new IllegalArgumentException("one settlement per delivery: " + deliveries.size()
                    + " deliveries, " + settlements.size() + " settlements");
        }
        List<Boolean> done = new ArrayList<>(deliveries.size());
        for (int from = 0; from < deliveries.size(); from += ENQUEUE_CHUNK) {
            int to = Math.min(deliveries.size(), from + ENQUEUE_CHUNK);
            List<String> args = new ArrayList<>(2 + (to - from) * 12);
            args.add(config.prefix());
            args.add(Integer.toString(to - from));
            for (int i = from; i < to; i++) {
                List<String> one = settleArgs(
                        Objects.requireNonNull(deliveries.get(i), "a delivery in the batch is null"),
                        Objects.requireNonNull(settlements.get(i), "a settlement in the batch is null"));
                args.add(Integer.toString(one.size()));
                args.addAll(one);
            }
            for (Object r : (List<?>) withJedis(jedis -> scripts.settle.eval(jedis, args))) {
                done.add(1L == (Long) r);
            }
        }
        return done;
    }

    private List<String> settleArgs(Delivery delivery, Settlement settlement) {
        TaskMessage m = delivery.message();
        String kind;
        String text = "";
        boolean dead = false;
        TaskMessage follow = null;
        switch (settlement) {
            case Settlement.Success s -> {
                kind = "S";
                text = s.resultJson();
                follow = m.link();
            }
            case Settlement.Retry r -> {
                kind = "R";
                text = r.error();
                follow = m.nextAttempt(r.notBeforeMillis());
            }
            case Settlement.Failure f -> {
                kind = "F";
                text = f.error();
                dead = f.deadLetter();
            }
            case Settlement.Revoked v -> {
                kind = "V";
                text = v.reason();
            }
            case Settlement.Release ignored -> kind = "L";
        }
        List<String> args = new ArrayList<>(9 + TaskMessageJson.SPEC);
        args.add(m.id());
        args.add(kind);
        args.add(delivery.receipt());
        args.add(delivery.consumer());
        args.add(m.queue());
        args.add(Integer.toString(m.priority()));
        args.add(text);
        args.add(dead ? "1" : "0");
        args.add(m.chordId() == null ? "" : m.chordId());
        if (follow != null) {
            TaskMessageJson.appendSpec(args, follow);
        }
        return args;
    }

    // ---- canvas

    @Override
    public void openChord(String chordId, List<String> memberIds, TaskMessage callback) {
        requireName(chordId, "chordId");
        Objects.requireNonNull(memberIds, "memberIds");
        Objects.requireNonNull(callback, "callback");
        if (!chordId.equals(callback.chordResultsOf())) {
            throw new IllegalArgumentException("the callback of chord " + chordId + " must have chordResultsOf = "
                    + chordId + ", had " + callback.chordResultsOf());
        }
        requireConsistentLinks(callback);
        if (new LinkedHashSet<>(memberIds).size() != memberIds.size()) {
            throw new IllegalArgumentException("chord " + chordId + " lists a member twice: " + memberIds);
        }
        memberIds.forEach(id -> requireName(id, "member id"));
        List<String> args = new ArrayList<>(3 + memberIds.size() + TaskMessageJson.SPEC);
        args.add(config.prefix());
        args.add(chordId);
        args.add(Integer.toString(memberIds.size()));
        args.addAll(memberIds);
        TaskMessageJson.appendSpec(args, callback);
        try {
            withJedis(jedis -> scripts.chord.eval(jedis, args));
        } catch (JedisDataException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public List<String> chordMembers(String chordId) {
        requireName(chordId, "chordId");
        return withJedis(jedis -> jedis.lrange(config.prefix() + "chord-members:" + chordId, 0, -1));
    }

    // ---- records

    @Override
    public Optional<TaskRecord> record(String taskId) {
        requireName(taskId, "taskId");
        return Optional.ofNullable(TaskRecords.fromHash(taskId,
                withJedis(jedis -> jedis.hgetAll(recordKey(taskId)))));
    }

    /** One pipelined round trip for all of them. */
    @Override
    public List<TaskRecord> records(Collection<String> taskIds) {
        Objects.requireNonNull(taskIds, "taskIds");
        if (taskIds.isEmpty()) {
            return List.of();
        }
        List<String> ids = List.copyOf(taskIds);
        List<Map<String, String>> hashes = withJedis(jedis -> {
            Pipeline p = jedis.pipelined();
            List<Response<Map<String, String>>> rs = ids.stream().map(id -> p.hgetAll(recordKey(id))).toList();
            p.sync();
            return rs.stream().map(Response::get).toList();
        });
        List<TaskRecord> found = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            TaskRecord r = TaskRecords.fromHash(ids.get(i), hashes.get(i));
            if (r != null) {
                found.add(r);
            }
        }
        return found;
    }

    @Override
    public boolean revoke(String taskId, String reason) {
        requireName(taskId, "taskId");
        Objects.requireNonNull(reason, "reason");
        return 1L == (Long) withJedis(jedis -> scripts.revoke.eval(jedis, List.of(config.prefix(), taskId, reason)));
    }

    @Override
    public Set<String> revokedAmong(Collection<String> taskIds) {
        Objects.requireNonNull(taskIds, "taskIds");
        if (taskIds.isEmpty()) {
            return Set.of();
        }
        List<String> ids = List.copyOf(taskIds);
        List<String> states = withJedis(jedis -> {
            Pipeline p = jedis.pipelined();
            List<Response<String>> rs = ids.stream().map(id -> p.hget(recordKey(id), "state")).toList();
            p.sync();
            return rs.stream().map(Response::get).toList();
        });
        Set<String> revoked = new LinkedHashSet<>();
        for (int i = 0; i < ids.size(); i++) {
            if (TaskState.REVOKED.name().equals(states.get(i))) {
                revoked.add(ids.get(i));
            }
        }
        return revoked;
    }

    @Override
    public long tryAcquirePermit(String key, double permitsPerSecond, int burst) {
        requireName(key, "key");
        if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
            throw new IllegalArgumentException("permitsPerSecond must be positive and finite, was " + permitsPerSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be >= 1, was " + burst);
        }
        return (Long) withJedis(jedis -> scripts.permit.eval(jedis,
                List.of(config.prefix(), key, Double.toString(permitsPerSecond), Integer.toString(burst))));
    }

    @Override
    public List<TaskRecord> deadLetters(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        if (limit == 0) {
            return List.of();
        }
        List<String> ids = withJedis(jedis -> jedis.zrevrange(config.prefix() + "dead", 0, limit - 1));
        return records(ids);
    }

    @Override
    public long purge(String queue) {
        requireQueueName(queue);
        return (Long) withJedis(jedis -> scripts.purge.eval(jedis, List.of(config.prefix(), queue)));
    }

    @Override
    public BrokerStats stats() {
        List<?> out = (List<?>) withJedis(jedis -> scripts.stats.eval(jedis, List.of(config.prefix())));
        List<?> c = (List<?>) out.get(0);
        Map<String, Long> queued = new LinkedHashMap<>();
        for (Object o : (List<?>) out.get(1)) {
            List<?> q = (List<?>) o;
            queued.put((String) q.get(0), (Long) q.get(1));
        }
        List<BrokerStats.InFlight> inFlight = new ArrayList<>();
        for (Object o : (List<?>) out.get(2)) {
            List<?> f = (List<?>) o;
            inFlight.add(new BrokerStats.InFlight((String) f.get(0), (String) f.get(1), (String) f.get(2),
                    (Long) f.get(3)));
        }
        return new BrokerStats(new java.util.TreeMap<>(queued), inFlight, (Long) c.get(5), (Long) c.get(0),
                (Long) c.get(1), (Long) c.get(2), (Long) c.get(3), (Long) c.get(4));
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.close();
        }
    }

    @Override
    public String toString() {
        return "RedisBroker[" + config.toUrl() + "]";
    }

    // ---- helpers

    private String recordKey(String id) {
        return config.prefix() + "t:" + id;
    }

    /**
     * Runs one round trip on a pooled connection. A lost connection is retried once on a fresh one, after dropping
     * the pool's idle connections: after a server restart every one of them is dead, and the first command on each
     * would fail. (If the lost command had reached the server, the retry runs it twice: a settlement then returns
     * false as a duplicate, an enqueue returns the same id; nothing is lost or doubled.)
     */
    private <T> T withJedis(Function<Jedis, T> action) {
        if (closed) {
            throw new IllegalStateException("the broker is closed");
        }
        try (Jedis jedis = pool.getResource()) {
            return action.apply(jedis);
        } catch (JedisConnectionException first) {
            connectionFailures.increment();
            pool.clear();
            try (Jedis jedis = pool.getResource()) {
                return action.apply(jedis);
            } catch (JedisConnectionException second) {
                connectionFailures.increment();
                second.addSuppressed(first);
                throw second;
            }
        }
    }

    /** How many round trips failed with a lost connection (a server outage shows here; for tests). */
    long connectionFailures() {
        return connectionFailures.sum();
    }

    private static void strings(Object reply, List<String> into) {
        for (Object o : (List<?>) reply) {
            into.add((String) o);
        }
    }

    /** Queue names end up inside key names, between separators: a ':' could make two queues share a key. */
    private static void requireQueueName(String queue) {
        requireName(queue, "queue");
        if (queue.indexOf(':') >= 0) {
            throw new IllegalArgumentException("a queue name on the Redis broker must not contain ':' (its key "
                    + "separator), was '" + queue + "'");
        }
    }

    private static void requireName(String s, String what) {
        Objects.requireNonNull(s, what);
        if (s.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
    }

    private static void requireVisibility(Duration visibility) {
        Objects.requireNonNull(visibility, "visibility");
        if (visibility.isNegative() || visibility.isZero()) {
            throw new IllegalArgumentException("visibility must be positive, was " + visibility);
        }
    }

    /** A chain's link must name its parent, and so must the link's own link; every queue name must be usable. */
    private static void requireConsistentLinks(TaskMessage message) {
        requireQueueName(message.queue());
        for (TaskMessage m = message; m.link() != null; m = m.link()) {
            requireQueueName(m.link().queue());
            if (!m.id().equals(m.link().parentId())) {
                throw new IllegalArgumentException("the link " + m.link().id() + " of task " + m.id()
                        + " must have parentId " + m.id() + ", had " + m.link().parentId());
            }
        }
    }
}
