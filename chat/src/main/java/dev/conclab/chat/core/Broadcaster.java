package dev.conclab.chat.core;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.protocol.ChatMessage;
import dev.conclab.chat.redis.RedisBroadcaster;

import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The fan-out path between nodes: every {@link RoomEvent} published on any node reaches the {@link Listener} of
 * every node (the publishing one included), which delivers it to its local members. {@link LocalBroadcaster} is the
 * single-node bus; a pub/sub bus (Redis) makes several servers one chat.
 *
 * <p><b>Ordering.</b> Events of one room published from one thread reach every listener in the order published.
 * A local bus delivers synchronously, on the publishing thread; a remote bus delivers on its own thread.
 *
 * <p><b>Ids and presence.</b> The default methods keep ids and presence on this node ({@link #post},
 * {@link #nextId}, {@link #presence}); a cluster bus overrides them to make ids cluster-wide and presence span every
 * node.
 *
 * <p><b>Thread safety.</b> {@link #publish} may be called from any thread at once and must not block for long: the
 * core calls it while holding the room's lock (a remote bus hands the event to its client and returns).
 */
public interface Broadcaster extends AutoCloseable {

    /** Receives the events of every node; called by the bus, never concurrently for one room. */
    @FunctionalInterface
    interface Listener {
        void onEvent(RoomEvent event);

        /**
         * {@code event} with its cluster-wide id ({@code id > 0}, increasing in delivery order), or {@code id == 0}
         * from a bus that does not sequence events (a single node). A sequencing bus calls this method; the default
         * drops the id.
         */
        default void onEvent(RoomEvent event, long id) {
            onEvent(event);
        }
    }

    /**
     * Starts delivering to {@code listener}; called once, before the first {@link #publish}.
     *
     * @throws IllegalStateException if already started
     */
    void start(Listener listener);

    /** Sends {@code event} to every node's listener. */
    void publish(RoomEvent event);

    /**
     * Publishes {@code event} as {@link #publish} does and returns the cluster-wide id it was sequenced with, or 0
     * when this bus does not sequence events (the default). Called under the room's lock for a join: events the
     * listener receives later with a smaller id were sequenced before the join.
     */
    default long publishSequenced(RoomEvent event) {
        publish(event);
        return 0;
    }

    /**
     * Publishes a message posted to a room, stamped with a fresh id ({@code message.id()} is ignored), and calls
     * {@code delivered} with that id once this node's listener has had the message, so the sender's {@code ack}
     * follows its own copy. Called under the room's lock. The default takes the id from {@code localIds} and
     * delivers synchronously; a cluster bus stamps the id from a cluster-wide sequence in the same step as publishing
     * (ids then increase in the room's order on every node) and calls {@code delivered} when its own echo arrives.
     */
    default void post(ChatMessage message, LongSupplier localIds, LongConsumer delivered) {
        long id = localIds.getAsLong();
        publish(new RoomEvent.Posted(new ChatMessage(id, message.room(), message.from(), message.text(),
                message.ts())));
        delivered.accept(id);
    }

    /** A fresh message id (direct messages); the default takes it from {@code localIds}. */
    default long nextId(LongSupplier localIds) {
        return localIds.getAsLong();
    }

    /**
     * Who is in {@code room}, in join order, given this node's members {@code local}; the default answers
     * {@code local}, a cluster bus the members of every node.
     */
    default List<String> presence(String room, List<String> local) {
        return local;
    }

    /**
     * The bus {@code config} asks for: a {@link RedisBroadcaster} when it names a Redis server, else a
     * {@link LocalBroadcaster} (and nothing connects anywhere).
     */
    static Broadcaster of(ChatConfig config) {
        return config.redis().<Broadcaster>map(RedisBroadcaster::new).orElseGet(LocalBroadcaster::new);
    }

    /** Stops delivering and releases the bus's resources (threads, connections). Idempotent. */
    @Override
    void close();
}
