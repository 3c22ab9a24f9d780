package dev.conclab.chat.core;

import dev.conclab.chat.protocol.ChatMessage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A room of one node: its local members in join order and its bounded history ring. Every field is guarded by
 * {@link #lock}, held while a room event is stamped, recorded and fanned out, so every member sees the room's events
 * in one order, the order of the history.
 */
final class Room {

    final String name;
    final ReentrantLock lock = new ReentrantLock();
    /** Each local member and the cluster id of its own join (0 until known, or on a bus without ids). */
    private final LinkedHashMap<Session, Long> members = new LinkedHashMap<>();
    private final ArrayDeque<ChatMessage> history;
    private final int historySize;
    /** Set once the room is empty and gone from the hub's map; a joiner that finds it so retries. */
    boolean removed;

    Room(String name, int historySize) {
        this.name = name;
        this.historySize = historySize;
        this.history = new ArrayDeque<>(Math.min(historySize, 16));
    }

    boolean add(Session s) {
        return members.putIfAbsent(s, 0L) == null;
    }

    /** {@code s}'s view of the room starts at the event with cluster id {@code joinId} (its own join). */
    void startAt(Session s, long joinId) {
        members.replace(s, joinId);
    }

    /**
     * Whether the event with cluster id {@code eventId} belongs to {@code member}'s view: every event on a bus
     * without ids ({@code 0}), else its own join and later events only.
     */
    boolean sees(Session member, long eventId) {
        return eventId == 0 || eventId >= members.getOrDefault(member, 0L);
    }

    boolean remove(Session s) {
        return members.remove(s) != null;
    }

    boolean isEmpty() {
        return members.isEmpty();
    }

    Iterable<Session> members() {
        return members.keySet();
    }

    List<String> memberNames() {
        List<String> names = new ArrayList<>(members.size());
        for (Session s : members.keySet()) {
            names.add(s.name());
        }
        return names;
    }

    void record(ChatMessage m) {
        if (historySize == 0) {
            return;
        }
        if (history.size() == historySize) {
            history.removeFirst();
        }
        history.addLast(m);
    }

    List<ChatMessage> history() {
        return List.copyOf(history);
    }
}
