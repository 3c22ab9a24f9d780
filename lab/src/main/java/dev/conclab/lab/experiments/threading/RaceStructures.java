package dev.conclab.lab.experiments.threading;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The shared structures of {@link RaceConditions}, broken and fixed, shared with the lincheck test that checks
 * which of them are linearizable.
 *
 * <p>Each broken operation is a compound action — read then write, check then act — and takes a {@link Gap}: the
 * code that runs between its two halves. The experiment passes a barrier there, so every thread finishes the first
 * half before any starts the second and the race happens on every run; the lincheck test passes {@link Gap#NONE}
 * and lets the model checker find the interleaving itself. The fixed structures have no gap: their operation is one
 * atomic step (a lock held across both halves, or a single atomic call), and that is the whole cure.
 */
final class RaceStructures {

    private RaceStructures() {
    }

    /** What runs between the two halves of a compound action. */
    @FunctionalInterface
    interface Gap {
        /** Nothing between the halves: only a real scheduler (or a model checker) can interleave them. */
        Gap NONE = () -> { };

        void between() throws InterruptedException;
    }

    // ---- counters -------------------------------------------------------------------------------------------

    /**
     * Broken: {@code value++} on a plain field, written out as what it compiles to (getfield, add, putfield).
     * Not thread-safe: two threads that both read before either writes both write the same value.
     */
    static final class PlainCounter {
        private long value;

        long increment(Gap gap) throws InterruptedException {
            long seen = value;
            gap.between();
            value = seen + 1;
            return seen + 1;
        }

        long get() {
            return value;
        }
    }

    /** Fixed: the read and the write under the object's monitor. Thread-safe; blocks while another holds it. */
    static final class SynchronizedCounter {
        private long value;

        synchronized long increment() {
            return ++value;
        }

        synchronized long get() {
            return value;
        }
    }

    /** Fixed: the read and the write under a {@link ReentrantLock}. Thread-safe; blocks while another holds it. */
    static final class LockCounter {
        private final ReentrantLock lock = new ReentrantLock();
        private long value; // guarded by lock

        long increment() {
            lock.lock();
            try {
                return ++value;
            } finally {
                lock.unlock();
            }
        }

        long get() {
            lock.lock();
            try {
                return value;
            } finally {
                lock.unlock();
            }
        }
    }

    // ---- "I was first" registers ----------------------------------------------------------------------------

    /**
     * Broken: check-then-act on a synchronized map. Each call on the map is thread-safe; the pair is not: two
     * threads can both see the key absent and both put, and both believe they were first.
     */
    static final class CheckThenActRegister {
        private final Map<Integer, Integer> owners = Collections.synchronizedMap(new HashMap<>());

        /** Returns whether {@code who} was the first to claim {@code key}. */
        boolean claim(int key, int who, Gap gap) throws InterruptedException {
            if (owners.containsKey(key)) {
                return false;
            }
            gap.between();
            owners.put(key, who);
            return true;
        }
    }

    /**
     * Fixed by client-side locking: the check and the put under the synchronized map's own monitor, the lock its
     * Javadoc names for compound actions. Thread-safe; blocks while another thread holds the map.
     */
    static final class LockedRegister {
        private final Map<Integer, Integer> owners = Collections.synchronizedMap(new HashMap<>());

        boolean claim(int key, int who) {
            synchronized (owners) {
                if (owners.containsKey(key)) {
                    return false;
                }
                owners.put(key, who);
                return true;
            }
        }
    }

    /** Fixed: {@link ConcurrentHashMap#putIfAbsent} checks and acts in one atomic step per key. Thread-safe. */
    static final class PutIfAbsentRegister {
        private final ConcurrentHashMap<Integer, Integer> owners = new ConcurrentHashMap<>();

        boolean claim(int key, int who) {
            return owners.putIfAbsent(key, who) == null;
        }
    }

    // ---- counters in a thread-safe map ----------------------------------------------------------------------

    /**
     * Broken: {@code get} then {@code put} on a {@link ConcurrentHashMap}. The map is thread-safe; this sequence of
     * two calls is not atomic, so concurrent increments of one key are lost.
     */
    static final class GetPutMapCounter {
        private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

        long increment(String key, Gap gap) throws InterruptedException {
            long seen = counts.getOrDefault(key, 0L);
            gap.between();
            counts.put(key, seen + 1);
            return seen + 1;
        }

        long get(String key) {
            return counts.getOrDefault(key, 0L);
        }
    }

    /** Fixed: {@link ConcurrentHashMap#merge}, one atomic read-modify-write per key. Thread-safe. */
    static final class MergeMapCounter {
        private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

        long increment(String key) {
            return counts.merge(key, 1L, Long::sum);
        }

        long get(String key) {
            return counts.getOrDefault(key, 0L);
        }
    }

    /** Fixed: {@link ConcurrentHashMap#compute}, one atomic read-modify-write per key. Thread-safe. */
    static final class ComputeMapCounter {
        private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

        long increment(String key) {
            return counts.compute(key, (k, old) -> old == null ? 1L : old + 1);
        }

        long get(String key) {
            return counts.getOrDefault(key, 0L);
        }
    }

    // ---- immutable snapshots --------------------------------------------------------------------------------

    /**
     * Counts in an immutable map that is replaced whole, never changed in place: readers always see a complete
     * snapshot. Thread-safe for readers in both forms; only {@link #increment} is a correct writer.
     */
    static final class SnapshotCounter {
        private final AtomicReference<Map<String, Long>> snapshot = new AtomicReference<>(Map.of());

        /** Fixed: compare-and-set loop; a writer whose snapshot went stale retries on the new one. */
        long increment(String key) {
            return snapshot.updateAndGet(map -> plusOne(map, key)).get(key);
        }

        /** Broken: builds the next snapshot from a stale one and installs it with a plain {@code set}. */
        long incrementFromStale(String key, Gap gap) throws InterruptedException {
            Map<String, Long> seen = snapshot.get();
            gap.between();
            Map<String, Long> next = plusOne(seen, key);
            snapshot.set(next);
            return next.get(key);
        }

        long get(String key) {
            return snapshot.get().getOrDefault(key, 0L);
        }

        private static Map<String, Long> plusOne(Map<String, Long> map, String key) {
            Map<String, Long> next = new HashMap<>(map);
            next.merge(key, 1L, Long::sum);
            return Map.copyOf(next);
        }
    }
}
