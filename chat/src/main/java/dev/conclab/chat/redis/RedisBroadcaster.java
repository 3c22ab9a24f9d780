package dev.conclab.chat.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conclab.chat.ChatConfig.RedisAddress;
import dev.conclab.chat.core.Broadcaster;
import dev.conclab.chat.core.RoomEvent;
import dev.conclab.chat.protocol.ChatMessage;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * A {@link Broadcaster} over Redis pub/sub that makes every server using the same Redis one chat.
 *
 * <p><b>Sequencing.</b> Every room event (posted, joined, left) goes through one Lua script that, atomically inside
 * Redis, takes the next id from a cluster-wide counter ({@code INCR}), a timestamp from Redis's clock (never
 * decreasing), updates the room's presence set, and {@code PUBLISH}es the event on one channel. Redis runs scripts
 * one at a time, so the channel's order is the id order, and every subscriber receives the channel in that order.
 *
 * <p><b>Single delivery path.</b> A node does not deliver its own events when it publishes them: it delivers every
 * event, its own included, when its subscription receives it. So each local member gets each event exactly once, and
 * the members of every node see a room's events in the same order, with increasing ids. The sender's {@code ack} is
 * held until its own message has come back and been delivered (whichever of "the script returned the id" and "the
 * echo was delivered" happens second sends it), so the protocol's "message, then ack" holds as on one node.
 *
 * <p><b>Presence.</b> A sorted set per room holds {@code name + ' ' + node} scored by the join's id (join order);
 * {@link #presence} answers the names of every node. Names are unique per node only, so a name may be listed twice.
 *
 * <p><b>Threads and blocking.</b> Commands run on one connection, one at a time (a lock), and block the caller for a
 * round trip ({@link #publish} and {@link #post} are called under a room's lock: loopback costs a fraction of a
 * millisecond). The subscription runs on one virtual thread doing Jedis's blocking {@code SUBSCRIBE}; it calls the
 * listener, so events reach the listener one at a time, in channel order.
 *
 * <p><b>When Redis goes away.</b> Commands fail: {@link #post}, {@link #nextId} and joins throw
 * {@link IllegalStateException} (the hub closes that client's connection with 1011); a failed {@code left} is
 * counted and dropped (the presence set may keep the name); {@link #presence} answers this node's members. The
 * subscriber reconnects with backoff (100 ms doubling to 2 s); events published while it was away are lost (and a
 * message of this node among them gets no ack). The
 * server keeps running, and works again once Redis is back.
 *
 * <p><b>Thread safety.</b> All methods may be called from any thread. {@link #close} is idempotent and stops the
 * subscriber thread before returning.
 */
public final class RedisBroadcaster implements Broadcaster {

    /** Every key and channel starts with this, so the chat can share a Redis with other uses. */
    static final String PREFIX = "conclab:chat:";
    static final String CHANNEL = PREFIX + "events";
    static final String SEQ = PREFIX + "seq";
    static final String LAST_TS = PREFIX + "last-ts";

    /** KEYS: seq, last-ts, presence; ARGV: channel, kind (P/J/L), member, body. Returns the id. */
    private static final String EVENT_SCRIPT = """
            local id = redis.call('INCR', KEYS[1])
            local t = redis.call('TIME')
            local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local last = tonumber(redis.call('GET', KEYS[2]) or '0')
            if ms < last then ms = last else redis.call('SET', KEYS[2], string.format('%d', ms)) end
            if ARGV[2] == 'J' then redis.call('ZADD', KEYS[3], id, ARGV[3])
            elseif ARGV[2] == 'L' then redis.call('ZREM', KEYS[3], ARGV[3]) end
            redis.call('PUBLISH', ARGV[1], string.format('%d %d ', id, ms) .. ARGV[4])
            return id
            """;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MILLIS = 1_000;
    private static final int SOCKET_TIMEOUT_MILLIS = 2_000;
    private static final long START_TIMEOUT_MILLIS = 5_000;

    private final RedisAddress address;
    private final String node = UUID.randomUUID().toString().substring(0, 8);
    private final ReentrantLock commandLock = new ReentrantLock();
    private Jedis commands;                             // guarded by commandLock; null until (re)connected
    private final LongAdder droppedEvents = new LongAdder();
    /** Acks of this node's posts by id: the callback until the echo is delivered, or {@link #ECHOED} if it came first. */
    private final ConcurrentHashMap<Long, LongConsumer> pendingAcks = new ConcurrentHashMap<>();
    private static final LongConsumer ECHOED = id -> { };
    private final LongAdder reconnects = new LongAdder();
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final AtomicReference<Throwable> lastFailure = new AtomicReference<>();
    private volatile Listener listener;
    private volatile Thread subscriber;
    private volatile boolean closed;
    /** Test-only: runs on the subscriber thread before each event is delivered (to force a lagging subscriber). */
    volatile Consumer<Decoded> beforeDelivery;

    /** A bus on the Redis at {@code address}; nothing connects until {@link #start}. */
    public RedisBroadcaster(RedisAddress address) {
        this.address = Objects.requireNonNull(address, "address");
    }

    /** This node's id (random, 8 hex digits): it tags the node's entries in the presence sets. */
    public String node() {
        return node;
    }

    /** Events that could not be published because Redis was unreachable (leaves; other failures throw). */
    public long droppedEvents() {
        return droppedEvents.sum();
    }

    /** Times the subscriber lost Redis and connected again. */
    public long reconnects() {
        return reconnects.sum();
    }

    /**
     * Connects, subscribes and returns once the subscription is active, so no event published afterwards is missed.
     *
     * @throws IllegalStateException if already started, or when Redis cannot be reached within 5 s
     */
    @Override
    public synchronized void start(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        if (this.listener != null) {
            throw new IllegalStateException("already started");
        }
        this.listener = listener;
        boolean ok;
        try {
            command(j -> j.ping()); // fail at once, not at the first join, when Redis cannot be reached
            subscriber = Thread.ofVirtual().name("chat-redis-subscriber").start(this::subscribeLoop);
            ok = subscribed.await(START_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        } catch (IllegalStateException e) {
            close();
            throw new IllegalStateException("cannot reach redis at " + address + ": "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()), e);
        }
        if (!ok) {
            close();
            Throwable why = lastFailure.get();
            throw new IllegalStateException("cannot reach redis at " + address
                    + (why == null ? "" : ": " + why.getMessage()), why);
        }
    }

    /** Publishes {@code event}; a join returns its cluster-wide id (the hub's join point), other events 0. */
    @Override
    public long publishSequenced(RoomEvent event) {
        if (event instanceof RoomEvent.Joined j) {
            return runScript(j.room(), "J", j.name(), body("J", j.room()).put("name", j.name()));
        }
        publish(event);
        return 0;
    }

    @Override
    public void publish(RoomEvent event) {
        switch (event) {
            case RoomEvent.Posted p -> post(p.message(), () -> 0, id -> { });
            case RoomEvent.Joined j -> runScript(j.room(), "J", j.name(), body("J", j.room()).put("name", j.name()));
            case RoomEvent.Left l -> {
                try {
                    runScript(l.room(), "L", l.name(), body("L", l.room()).put("name", l.name()));
                } catch (IllegalStateException e) {
                    droppedEvents.increment(); // a leave must not fail the close path that publishes it
                }
            }
        }
    }

    /**
     * Stamps the message with a cluster-wide id and Redis's time and publishes it; {@code delivered} runs once its
     * echo has been delivered here (on the subscriber thread, or on this one if the echo was first).
     */
    @Override
    public void post(ChatMessage message, LongSupplier localIds, LongConsumer delivered) {
        long id = runScript(message.room(), "P", message.from(),
                body("P", message.room()).put("from", message.from()).put("text", message.text()));
        if (pendingAcks.putIfAbsent(id, delivered) != null) {
            pendingAcks.remove(id); // the echo was delivered first
            delivered.accept(id);
        }
    }

    /** The next id of the cluster-wide sequence (room and direct messages share it). */
    @Override
    public long nextId(LongSupplier localIds) {
        return command(j -> j.incr(SEQ));
    }

    /** The members of every node in join order; this node's members {@code local} when Redis is unreachable. */
    @Override
    public List<String> presence(String room, List<String> local) {
        List<String> entries;
        try {
            entries = command(j -> j.zrange(presenceKey(room), 0, -1));
        } catch (IllegalStateException e) {
            return local;
        }
        List<String> names = new ArrayList<>(entries.size());
        for (String entry : entries) {
            int space = entry.indexOf(' ');
            names.add(space < 0 ? entry : entry.substring(0, space));
        }
        return names;
    }

    /** Whether the subscriber thread is running (it stops in {@link #close}). */
    boolean subscriberAlive() {
        Thread t = subscriber;
        return t != null && t.isAlive();
    }

    @Override
    public void close() {
        closed = true;
        Thread t = subscriber;
        if (t != null) {
            t.interrupt(); // a virtual thread blocked in a socket read is woken by closing the socket
            try {
                if (!t.join(java.time.Duration.ofSeconds(5))) {
                    throw new IllegalStateException("redis subscriber did not stop");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        commandLock.lock();
        try {
            if (commands != null) {
                commands.close();
                commands = null;
            }
        } finally {
            commandLock.unlock();
        }
    }

    // ---- commands ----

    private long runScript(String room, String kind, String name, ObjectNode body) {
        Object id = command(j -> j.eval(EVENT_SCRIPT, List.of(SEQ, LAST_TS, presenceKey(room)),
                List.of(CHANNEL, kind, name + " " + node, body.toString())));
        return (Long) id;
    }

    private ObjectNode body(String kind, String room) {
        return JSON.createObjectNode().put("k", kind).put("node", node).put("room", room);
    }

    private static String presenceKey(String room) {
        return PREFIX + "presence:" + room;
    }

    private interface Command<T> {
        T run(Jedis jedis);
    }

    /** Runs {@code c} on the command connection, connecting first when needed; one command at a time. */
    private <T> T command(Command<T> c) {
        commandLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("redis bus closed");
            }
            if (commands == null) {
                commands = connect("commands");
            }
            return c.run(commands);
        } catch (JedisException e) {
            if (commands != null) {
                commands.close(); // a broken connection is replaced at the next command
                commands = null;
            }
            throw new IllegalStateException("redis at " + address + " unavailable: " + e.getMessage(), e);
        } finally {
            commandLock.unlock();
        }
    }

    private Jedis connect(String role) {
        return new Jedis(new HostAndPort(address.host(), address.port()), DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(CONNECT_TIMEOUT_MILLIS)
                .socketTimeoutMillis(SOCKET_TIMEOUT_MILLIS)
                .clientName("conclab-chat-" + node + "-" + role)
                .protocol(RedisProtocol.RESP2) // plain Jedis speaks RESP2; saying so skips the RESP3 negotiation
                .build());
    }

    // ---- the subscriber, on its virtual thread ----

    private void subscribeLoop() {
        long backoff = 100;
        boolean first = true;
        while (!closed) {
            try (Jedis sub = connect("subscriber")) {
                if (!first) {
                    reconnects.increment();
                    pendingAcks.clear(); // echoes published while away are lost: their acks never come
                }
                first = false;
                backoff = 100;
                sub.subscribe(new Handler(), CHANNEL); // blocks while subscribed
            } catch (JedisException e) {
                lastFailure.set(e);
            }
            if (closed) {
                return;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return; // close() interrupts
            }
            backoff = Math.min(2_000, backoff * 2);
        }
    }

    private final class Handler extends JedisPubSub {
        @Override
        public void onSubscribe(String channel, int subscribedChannels) {
            subscribed.countDown();
        }

        @Override
        public void onMessage(String channel, String message) {
            if (closed) {
                unsubscribe();
                return;
            }
            Decoded event;
            try {
                event = decode(message);
            } catch (IOException | RuntimeException e) {
                droppedEvents.increment(); // not ours or damaged: never let it stop the subscription
                return;
            }
            Consumer<Decoded> hook = beforeDelivery;
            if (hook != null) {
                hook.accept(event);
            }
            try {
                listener.onEvent(event.event(), event.id());
            } catch (RuntimeException e) {
                droppedEvents.increment(); // a failure in one delivery must not end the subscription
            }
            if (event.event() instanceof RoomEvent.Posted && node.equals(event.node())) {
                LongConsumer ack = pendingAcks.putIfAbsent(event.id(), ECHOED);
                if (ack != null) { // the script had returned: ack now, after the delivery
                    pendingAcks.remove(event.id());
                    ack.accept(event.id());
                }
            }
        }
    }

    /** An event as received: its id, the node that published it, and the event. */
    record Decoded(long id, String node, RoomEvent event) {}

    /** {@code "id ts json"} as the script published it. */
    static Decoded decode(String message) throws IOException {
        int a = message.indexOf(' ');
        int b = message.indexOf(' ', a + 1);
        long id = Long.parseLong(message.substring(0, a));
        long ts = Long.parseLong(message.substring(a + 1, b));
        JsonNode body = JSON.readTree(message.substring(b + 1));
        String room = body.get("room").asText();
        RoomEvent event = switch (body.get("k").asText()) {
            case "P" -> new RoomEvent.Posted(new ChatMessage(id, room, body.get("from").asText(),
                    body.get("text").asText(), ts));
            case "J" -> new RoomEvent.Joined(room, body.get("name").asText());
            case "L" -> new RoomEvent.Left(room, body.get("name").asText());
            default -> throw new IOException("unknown event kind in " + message);
        };
        return new Decoded(id, body.path("node").asText(), event);
    }
}
