package dev.conclab.etl.scan;

import java.util.Arrays;

/**
 * Count and sum of EUR hundredths per (country, day), in an open-addressing table of primitive longs so adding a
 * record allocates nothing. Not thread safe: each range is aggregated by one thread and merged by the committer.
 */
public final class Aggregates {
    private static final long EMPTY = Long.MIN_VALUE;
    /**
     * Slot {@code i} is {@code table[3i]} (key), {@code table[3i + 1]} (count), {@code table[3i + 2]} (sum): one
     * array, so an add touches one or two cache lines instead of one in each of three arrays.
     */
    private long[] table;
    private int capacity;
    /** 64 - log2(capacity): the hash is the top bits of the key times the golden ratio (Fibonacci hashing). */
    private int shift;
    private int size;

    /** An empty table. */
    public Aggregates() {
        allocate(256);
    }

    private void allocate(int slots) {
        capacity = slots;
        shift = 64 - Integer.numberOfTrailingZeros(slots);
        table = new long[3 * slots];
        for (int i = 0; i < table.length; i += 3) table[i] = EMPTY;
        size = 0;
    }

    /** The key of a country ({@code 'D' << 8 | 'E'}) and a day since the epoch. */
    public static long key(int country, int epochDay) {
        return (long) country << 32 | (epochDay & 0xffff_ffffL);
    }

    /** The country's two letters of a key. */
    public static String country(long key) {
        int c = (int) (key >>> 32);
        return new String(new char[] {(char) (c >>> 8), (char) (c & 0xff)});
    }

    /** The day since the epoch of a key. */
    public static int epochDay(long key) { return (int) key; }

    /** Adds {@code count} records summing {@code sum} under {@code key}. */
    public void add(long key, long count, long sum) {
        long[] t = table;
        int mask = capacity - 1;
        int i = slot(key);
        while (true) {
            int at = 3 * i;
            long k = t[at];
            if (k == key) {
                t[at + 1] += count;
                t[at + 2] += sum;
                return;
            }
            if (k == EMPTY) {
                t[at] = key;
                t[at + 1] = count;
                t[at + 2] = sum;
                if (++size * 2 > capacity) grow();
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** Adds every entry of {@code other} into this table. */
    public void addAll(Aggregates other) {
        other.forEach(this::add);
    }

    /** The number of keys. */
    public int size() { return size; }

    /** Visits every entry, in no particular order. */
    public void forEach(Entry visitor) {
        long[] t = table;
        for (int at = 0; at < t.length; at += 3) if (t[at] != EMPTY) visitor.accept(t[at], t[at + 1], t[at + 2]);
    }

    /** The keys in ascending (country, day) order. */
    public long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (int at = 0; at < table.length; at += 3) if (table[at] != EMPTY) out[n++] = table[at];
        Arrays.sort(out);
        return out;
    }

    /** The count under {@code key} (0 if absent). */
    public long count(long key) { int at = find(key); return at < 0 ? 0 : table[at + 1]; }

    /** The sum under {@code key} (0 if absent). */
    public long sum(long key) { int at = find(key); return at < 0 ? 0 : table[at + 2]; }

    /** The index of {@code key}'s slot in {@link #table}, or -1. */
    private int find(long key) {
        int mask = capacity - 1;
        for (int i = slot(key); table[3 * i] != EMPTY; i = (i + 1) & mask) if (table[3 * i] == key) return 3 * i;
        return -1;
    }

    private void grow() {
        long[] old = table;
        allocate(capacity * 2);
        for (int at = 0; at < old.length; at += 3) if (old[at] != EMPTY) add(old[at], old[at + 1], old[at + 2]);
    }

    /**
     * The first slot to probe: Fibonacci hashing spreads the keys of consecutive days over the table almost evenly
     * (about 1.2 probes per add at the table's half load, against 1.8 with the low bits of a mixed key).
     */
    private int slot(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }

    /** One (key, count, sum) entry. */
    @FunctionalInterface
    public interface Entry {
        void accept(long key, long count, long sum);
    }
}
