package dev.conclab.chat.core;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatStats;
import dev.conclab.chat.protocol.ChatMessage;
import dev.conclab.chat.protocol.CloseCode;
import dev.conclab.chat.protocol.Codec;
import dev.conclab.chat.protocol.Inbound;
import dev.conclab.chat.protocol.Problem;
import dev.conclab.chat.protocol.ProtocolException;
import dev.conclab.toolkit.ratelimit.RateLimiter;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The transport-independent chat: names, rooms, presence, history, id and timestamp assignment, limits and the
 * fan-out of room events through a {@link Broadcaster}. Each serving model owns one hub and turns connections into
 * {@link Session}s with {@link #open}.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread. Each room has its own lock, held while one of
 * its events is stamped, recorded and fanned out (the fan-out only offers to bounded outboxes: no lock is ever held
 * while waiting for a client); names live in a concurrent map. Nothing blocks on I/O.
 *
 * <p><b>Ids and timestamps.</b> Message ids (room and direct messages alike) come from one counter: unique and
 * increasing on this hub, so the acks one client receives carry increasing ids, and a room's messages reach every
 * member, and its history, in id order. Timestamps are epoch milliseconds that never decrease.
 * With a cluster bus ({@link Broadcaster#post}, {@link Broadcaster#nextId}) the bus assigns them, cluster-wide.
 *
 * <p><b>Rooms.</b> A room exists while it has members (at most {@link ChatConfig#maxRooms()} at once); its history
 * (the last {@link ChatConfig#historySize()} messages) goes when its last member leaves.
 */
public final class ChatHub implements AutoCloseable {

    private final ChatConfig config;
    private final Codec codec;
    private final Broadcaster broadcaster;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    private final AtomicInteger roomCount = new AtomicInteger();
    private final ConcurrentHashMap<String, Session> byName = new ConcurrentHashMap<>();
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong lastTs = new AtomicLong();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong guests = new AtomicLong();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();
    private volatile boolean shuttingDown;

    /**
     * A hub with the bus {@code config} asks for ({@link Broadcaster#of}: Redis when configured, else this node
     * alone) and wall-clock timestamps.
     */
    public ChatHub(ChatConfig config) {
        this(config, Broadcaster.of(config), System::currentTimeMillis);
    }

    /**
     * A hub publishing room events through {@code broadcaster} (started here), stamping messages with
     * {@code clock} (epoch milliseconds).
     */
    public ChatHub(ChatConfig config, Broadcaster broadcaster, LongSupplier clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.broadcaster = Objects.requireNonNull(broadcaster, "broadcaster");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.codec = new Codec(config.maxTextChars());
        broadcaster.start(new Broadcaster.Listener() {
            @Override
            public void onEvent(RoomEvent event) {
                ChatHub.this.onEvent(event, 0);
            }

            @Override
            public void onEvent(RoomEvent event, long id) {
                ChatHub.this.onEvent(event, id);
            }
        });
    }

    public ChatConfig config() {
        return config;
    }

    public Codec codec() {
        return codec;
    }

    /**
     * A new session on {@code transport}, named {@code requestedName} when that is a valid free name, else
     * {@code guest-N} (with an {@code error} saying why). Its first frame is {@code welcome}. During shutdown the
     * session is closed with 1001 right after it.
     */
    public Session open(Transport transport, String requestedName) {
        Session s = new Session(this, sessionIds.incrementAndGet(), null, transport, config.outboundLimit(),
                RateLimiter.tokenBucket(config.messagesPerSecond(), config.burst()));
        Problem refused = null;
        String name = null;
        if (requestedName != null) {
            if (!Codec.NAME_PATTERN.matcher(requestedName).matches()) {
                refused = Problem.INVALID_FIELD;
            } else if (byName.putIfAbsent(requestedName, s) == null) {
                name = requestedName;
            } else {
                refused = Problem.NAME_TAKEN;
            }
        }
        while (name == null) {
            String guest = "guest-" + guests.incrementAndGet();
            if (byName.putIfAbsent(guest, s) == null) {
                name = guest;
            }
        }
        s.rename(name);
        sessions.add(s);
        accepted.increment();
        send(s, codec.welcome(name));
        if (refused != null) {
            error(s, refused, refused == Problem.NAME_TAKEN ? "the name asked for is taken; you are " + name
                    : "the name asked for is not 1 to 32 letters, digits, '_', '.' or '-'; you are " + name, null);
        }
        if (shuttingDown) {
            s.closeAfterDrain(CloseCode.GOING_AWAY, "server shutting down");
        }
        return s;
    }

    /**
     * Starts a graceful shutdown of every session: each is closed with 1001 once its queued frames are written.
     * Sessions opened later are closed the same way. The transport waits for them and enforces the deadline.
     */
    public void shutdown() {
        shuttingDown = true;
        for (Session s : sessions) {
            s.closeAfterDrain(CloseCode.GOING_AWAY, "server shutting down");
        }
    }

    /** Sessions open now. */
    public int connections() {
        return sessions.size();
    }

    public ChatStats stats() {
        return new ChatStats(sessions.size(), accepted.sum(), received.sum(), delivered.sum(), errors.sum(),
                slowConsumers.sum(), rateLimited.sum());
    }

    /** Closes the broadcaster. Sessions are the transport's to close (see {@link #shutdown()}). */
    @Override
    public void close() {
        broadcaster.close();
    }

    void countSlowConsumer() {
        slowConsumers.increment();
    }

    // ---- inbound, on the session's transport thread ----

    void handle(Session s, String text) {
        received.increment();
        if (!s.isOpen()) {
            return;
        }
        if (!s.limiter().tryAcquire()) {
            rateLimited.increment();
            strike(s, Problem.RATE_LIMITED, "over " + config.messagesPerSecond() + " messages/s (burst "
                    + config.burst() + "); message dropped", null);
            return;
        }
        Inbound message;
        try {
            message = codec.parse(text);
        } catch (ProtocolException e) {
            strike(s, e.problem(), e.getMessage(), e.ref());
            return;
        }
        try {
            Problem p = switch (message) {
                case Inbound.Hello h -> hello(s, h);
                case Inbound.Join j -> join(s, j);
                case Inbound.Leave l -> leave(s, l);
                case Inbound.Send m -> post(s, m);
                case Inbound.Dm d -> dm(s, d);
                case Inbound.Who w -> who(s, w);
                case Inbound.History h -> history(s, h);
            };
            if (p == null) {
                s.strikes = 0;
            } else {
                strike(s, p, explain(p, message), message.ref());
            }
        } catch (RuntimeException e) {
            // A bug must cost this connection only, never the server or the other clients.
            s.closeNow(CloseCode.INTERNAL_ERROR, "internal error");
        }
    }

    private void strike(Session s, Problem problem, String message, String ref) {
        error(s, problem, message, ref);
        if (++s.strikes >= config.maxStrikes()) {
            s.closeNow(CloseCode.POLICY_VIOLATION, s.strikes + " refused messages in a row");
        }
    }

    private void error(Session s, Problem problem, String message, String ref) {
        errors.increment();
        send(s, codec.error(problem, message, ref));
    }

    private void send(Session s, String frame) {
        if (s.deliver(frame)) {
            delivered.increment();
        }
    }

    private static String explain(Problem p, Inbound m) {
        return switch (p) {
            case NOT_IN_ROOM -> "you are not in that room";
            case ALREADY_IN_ROOM -> "you are in that room already";
            case TOO_MANY_ROOMS -> "you are in the most rooms a client may be in";
            case SERVER_FULL -> "the server holds the most rooms it may";
            case UNKNOWN_USER -> "nobody of that name is connected";
            case NAME_TAKEN -> "somebody else has that name";
            case NAME_LOCKED -> "a name changes only while in no room";
            default -> p.wire() + " in " + m.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private Problem hello(Session s, Inbound.Hello h) {
        String old = s.name();
        if (!h.name().equals(old)) {
            if (!s.rooms.isEmpty()) {
                return Problem.NAME_LOCKED;
            }
            if (byName.putIfAbsent(h.name(), s) != null) {
                return Problem.NAME_TAKEN;
            }
            s.rename(h.name());
            byName.remove(old, s);
        }
        send(s, codec.welcome(h.name()));
        return null;
    }

    private Problem join(Session s, Inbound.Join j) {
        if (s.rooms.contains(j.room())) {
            return Problem.ALREADY_IN_ROOM;
        }
        if (s.rooms.size() >= config.maxRoomsPerClient()) {
            return Problem.TOO_MANY_ROOMS;
        }
        while (true) {
            Room room = rooms.get(j.room());
            if (room == null) {
                if (roomCount.incrementAndGet() > config.maxRooms()) {
                    roomCount.decrementAndGet();
                    return Problem.SERVER_FULL;
                }
                Room fresh = new Room(j.room(), config.historySize());
                room = rooms.putIfAbsent(j.room(), fresh);
                if (room != null) {
                    roomCount.decrementAndGet();
                } else {
                    room = fresh;
                }
            }
            room.lock.lock();
            try {
                if (room.removed) {
                    continue; // emptied and dropped meanwhile: make or find its successor
                }
                room.add(s);
                s.rooms.add(j.room());
                // The join point: with a sequencing bus, the joiner's view starts at its own joined. Set under the
                // room's lock, before any later delivery to the room can run (they take this lock too), so an event
                // sequenced before the join that a lagging subscriber delivers now is not shown to the joiner.
                room.startAt(s, broadcaster.publishSequenced(new RoomEvent.Joined(j.room(), s.name())));
                return null;
            } finally {
                room.lock.unlock();
            }
        }
    }

    private Problem leave(Session s, Inbound.Leave l) {
        if (!s.rooms.contains(l.room())) {
            return Problem.NOT_IN_ROOM;
        }
        send(s, codec.left(l.room(), s.name()));
        leaveRoom(s, l.room());
        return null;
    }

    private void leaveRoom(Session s, String roomName) {
        s.rooms.remove(roomName);
        Room room = rooms.get(roomName);
        if (room == null) {
            return;
        }
        room.lock.lock();
        try {
            if (!room.remove(s)) {
                return;
            }
            broadcaster.publish(new RoomEvent.Left(roomName, s.name()));
            if (room.isEmpty()) {
                room.removed = true;
                rooms.remove(roomName, room);
                roomCount.decrementAndGet();
            }
        } finally {
            room.lock.unlock();
        }
    }

    private Problem post(Session s, Inbound.Send m) {
        if (!s.rooms.contains(m.room())) {
            return Problem.NOT_IN_ROOM;
        }
        Room room = rooms.get(m.room());
        if (room == null) {
            return Problem.NOT_IN_ROOM;
        }
        room.lock.lock();
        try {
            // Stamped under the room's lock: the room's ids, deliveries and history share one order. The ack goes
            // once this node has delivered the message, so the sender sees its message before the ack.
            broadcaster.post(new ChatMessage(0, m.room(), s.name(), m.text(), now()), ids::incrementAndGet,
                    id -> send(s, codec.ack(m.ref(), id)));
        } finally {
            room.lock.unlock();
        }
        return null;
    }

    private Problem dm(Session s, Inbound.Dm d) {
        Session to = byName.get(d.to());
        if (to == null) {
            return Problem.UNKNOWN_USER;
        }
        long id = broadcaster.nextId(ids::incrementAndGet);
        send(to, codec.dm(id, s.name(), d.to(), d.text(), now()));
        send(s, codec.ack(d.ref(), id));
        return null;
    }

    private Problem who(Session s, Inbound.Who w) {
        Room room = rooms.get(w.room());
        List<String> members = List.of();
        if (room != null) {
            room.lock.lock();
            try {
                members = room.memberNames();
            } finally {
                room.lock.unlock();
            }
        }
        send(s, codec.presence(w.room(), broadcaster.presence(w.room(), members), w.ref()));
        return null;
    }

    private Problem history(Session s, Inbound.History h) {
        Room room = rooms.get(h.room());
        List<ChatMessage> messages = List.of();
        if (room != null) {
            room.lock.lock();
            try {
                messages = room.history();
            } finally {
                room.lock.unlock();
            }
        }
        send(s, codec.history(h.room(), messages, h.ref()));
        return null;
    }

    private long now() {
        long t = clock.getAsLong();
        return lastTs.accumulateAndGet(t, Math::max);
    }

    void closed(Session s) {
        if (!sessions.remove(s)) {
            return;
        }
        for (String room : List.copyOf(s.rooms)) {
            leaveRoom(s, room);
        }
        byName.remove(s.name(), s);
    }

    // ---- fan-out: events of every node, delivered to this node's members ----

    private void onEvent(RoomEvent event, long id) {
        Room room = rooms.get(event.room());
        if (room == null) {
            return;
        }
        room.lock.lock();
        try {
            if (room.removed) {
                return;
            }
            String frame = switch (event) {
                case RoomEvent.Posted p -> {
                    room.record(p.message());
                    yield codec.message(p.message());
                }
                case RoomEvent.Joined j -> codec.joined(j.room(), j.name());
                case RoomEvent.Left l -> codec.left(l.room(), l.name());
            };
            for (Session member : room.members()) {
                if (room.sees(member, id)) {
                    send(member, frame);
                }
            }
        } finally {
            room.lock.unlock();
        }
    }
}
