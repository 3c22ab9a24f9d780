package dev.conclab.etl.parse;

/**
 * One parsed order, reused from record to record so parsing allocates nothing per line. Not thread safe: each
 * scanning thread owns one.
 */
public final class OrderFields {
    /** The order id. */
    public long id;
    /** Days since 1970-01-01 (UTC) of the order's timestamp. */
    public int epochDay;
    /** The country as two ASCII letters packed into the low 16 bits ({@code 'D' << 8 | 'E'}). */
    public int country;
    /** The amount in the order's currency, in hundredths. */
    public long amountCents;
    /** Index into {@link Orders#CURRENCIES}. */
    public int currency;
    /** Index into {@link Orders#STATUSES}. */
    public int status;
    /** Bit set of the fields seen (JSON lines may omit or repeat keys). */
    int seen;
    /** The last valid date's bytes (a cache kept across records; an impossible value at first). */
    long cachedYmd = -1;
    int cachedDd = -1;
    int cachedEpochDay;
    /** The CSV fast path's cache of valid dates: ten digit values packed in a long (never -1), and their epoch day. */
    static final int DATE_CACHE_BITS = 8;
    final long[] dateKeys = new long[1 << DATE_CACHE_BITS];
    final int[] dateDays = new int[1 << DATE_CACHE_BITS];

    {
        java.util.Arrays.fill(dateKeys, -1);
    }

    void reset() {
        id = 0; epochDay = 0; country = 0; amountCents = 0; currency = -1; status = -1; seen = 0;
    }
}
