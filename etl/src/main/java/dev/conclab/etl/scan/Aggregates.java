package dev.conclab.etl.scan;

import java.util.Arrays;

/**
 * Count and sum of EUR hundredths per (country, day), in an open-addressing table of primitive longs so adding a
 * record allocates nothing. Not thread safe: each range is aggregated by one thread and merged by the committer.
 */
public final class Aggregates {
    private static final long EMPTY = Long.MIN_VALUE;
    private long[] keys;
    private long[] counts;
    private long[] sums;
    private int size;

    /** An empty table. */
    public Aggregates() {
        allocate(256);
    }

    private void allocate(int capacity) {
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        counts = new long[capacity];
        sums = new long[capacity];
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
        int mask = keys.length - 1;
        int i = (int) mix(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                counts[i] += count;
                sums[i] += sum;
                return;
            }
            if (k == EMPTY) {
                keys[i] = key;
                counts[i] = count;
                sums[i] = sum;
                if (++size * 2 > keys.length) grow();
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
        for (int i = 0; i < keys.length; i++) if (keys[i] != EMPTY) visitor.accept(keys[i], counts[i], sums[i]);
    }

    /** The keys in ascending (country, day) order. */
    public long[] sortedKeys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) if (k != EMPTY) out[n++] = k;
        Arrays.sort(out);
        return out;
    }

    /** The count under {@code key} (0 if absent). */
    public long count(long key) { int i = find(key); return i < 0 ? 0 : counts[i]; }

    /** The sum under {@code key} (0 if absent). */
    public long sum(long key) { int i = find(key); return i < 0 ? 0 : sums[i]; }

    private int find(long key) {
        int mask = keys.length - 1;
        for (int i = (int) mix(key) & mask; keys[i] != EMPTY; i = (i + 1) & mask) if (keys[i] == key) return i;
        return -1;
    }

    private void grow() {
        long[] k = keys, c = counts, s = sums;
        allocate(k.length * 2);
        for (int i = 0; i < k.length; i++) if (k[i] != EMPTY) add(k[i], c[i], s[i]);
    }

    private static long mix(long x) {
        x *= 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    /** One (key, count, sum) entry. */
    @FunctionalInterface
    public interface Entry {
        void accept(long key, long count, long sum);
    }
}
