package dev.conclab.etl.parse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The order schema shared by the generator, the parsers and the transform: field names, currencies with their fixed
 * rates to EUR, statuses, and the byte-level field checks. Stateless and thread safe.
 */
public final class Orders {
    /** The CSV header line (without the newline). */
    public static final String CSV_HEADER = "id,timestamp,customer,country,amount,currency,status";
    /** Currencies in index order. */
    public static final String[] CURRENCIES = {"EUR", "USD", "GBP", "JPY", "CHF", "SEK"};
    /** Rate to EUR in parts per million, same index as {@link #CURRENCIES}; fixed so runs are reproducible. */
    static final long[] RATE_TO_EUR_PPM = {1_000_000, 920_000, 1_170_000, 6_200, 1_050_000, 88_000};
    /** Statuses in index order; only {@link #PAID} and {@link #SHIPPED} are aggregated. */
    public static final String[] STATUSES = {"PAID", "SHIPPED", "CANCELLED", "REFUNDED"};
    public static final int PAID = 0, SHIPPED = 1;
    /** Largest accepted amount (in hundredths): 1,000,000.00. */
    static final long MAX_AMOUNT_CENTS = 100_000_000L;
    /** Earliest and latest accepted years. */
    static final int MIN_YEAR = 2000, MAX_YEAR = 2099;

    /** Epoch day of the first of each month from {@link #MIN_YEAR} to {@link #MAX_YEAR}: a lookup per date. */
    static final int[] MONTH_START = new int[(MAX_YEAR - MIN_YEAR + 1) * 12];
    /** The number of days of each month, same index as {@link #MONTH_START}. */
    static final int[] MONTH_LENGTH = new int[MONTH_START.length];

    static {
        for (int y = MIN_YEAR; y <= MAX_YEAR; y++) {
            for (int m = 1; m <= 12; m++) {
                MONTH_START[(y - MIN_YEAR) * 12 + m - 1] = epochDay(y, m, 1);
                MONTH_LENGTH[(y - MIN_YEAR) * 12 + m - 1] = monthLength(y, m);
            }
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final byte[][] STATUS_BYTES = bytes(STATUSES);

    private Orders() {}

    private static byte[][] bytes(String[] names) {
        byte[][] out = new byte[names.length][];
        for (int i = 0; i < names.length; i++) out[i] = names[i].getBytes(StandardCharsets.US_ASCII);
        return out;
    }

    /** The amount converted to EUR hundredths (the transform step), rounding down. */
    public static long toEurCents(long amountCents, int currency) {
        return amountCents * RATE_TO_EUR_PPM[currency] / 1_000_000L;
    }

    // ---- field checks: each returns null when the field is good, else the reject reason (a constant, no allocation)

    static String parseId(byte[] b, int from, int to, OrderFields out) {
        if (from >= to || to - from > 18) return "bad id";
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return "bad id";
            v = v * 10 + d;
        }
        out.id = v;
        return null;
    }

    /** {@code YYYY-MM-DDThh:mm:ssZ}; only the day is kept (the aggregation key). */
    static String parseTimestamp(byte[] b, int from, int to, OrderFields out) {
        if (to - from != 20 || b[from + 4] != '-' || b[from + 7] != '-' || b[from + 10] != 'T'
                || b[from + 13] != ':' || b[from + 16] != ':' || b[from + 19] != 'Z') {
            return "bad timestamp";
        }
        int h1 = b[from + 11] - '0', h2 = b[from + 12] - '0', m1 = b[from + 14] - '0', m2 = b[from + 15] - '0';
        int s1 = b[from + 17] - '0', s2 = b[from + 18] - '0';
        // Each digit in 0..9 (one unsigned compare each), then the ranges: hh <= 23, mm and ss <= 59.
        if (Integer.compareUnsigned(h1, 2) > 0 || Integer.compareUnsigned(h2, 9) > 0 || (h1 == 2 && h2 > 3)
                || Integer.compareUnsigned(m1, 5) > 0 || Integer.compareUnsigned(m2, 9) > 0
                || Integer.compareUnsigned(s1, 5) > 0 || Integer.compareUnsigned(s2, 9) > 0) {
            return "bad timestamp";
        }
        // Most records of a range share a few days: the last valid date's 10 bytes, compared as two words, skip
        // the date arithmetic.
        long ymd = (long) LONGS.get(b, from);
        int dd = b[from + 8] << 8 | b[from + 9];
        if (ymd == out.cachedYmd && dd == out.cachedDd) {
            out.epochDay = out.cachedEpochDay;
            return null;
        }
        int year = digits(b, from, 4), month = digits(b, from + 5, 2), day = digits(b, from + 8, 2);
        if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1 || day > monthLength(year, month)) {
            return "bad timestamp";
        }
        out.epochDay = MONTH_START[(year - MIN_YEAR) * 12 + month - 1] + day - 1;
        out.cachedYmd = ymd;
        out.cachedDd = dd;
        out.cachedEpochDay = out.epochDay;
        return null;
    }

    static String parseCountry(byte[] b, int from, int to, OrderFields out) {
        if (to - from != 2 || !upper(b[from]) || !upper(b[from + 1])) return "bad country";
        out.country = b[from] << 8 | b[from + 1];
        return null;
    }

    /** Digits with an optional point and at most two decimals; zero and negatives are rejected. */
    static String parseAmount(byte[] b, int from, int to, OrderFields out) {
        if (from >= to) return "bad amount";
        long v = 0;
        int decimals = -1;
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c == '.') {
                if (decimals >= 0 || i == from) return "bad amount";
                decimals = 0;
            } else if (c >= '0' && c <= '9') {
                if (decimals >= 0 && ++decimals > 2) return "bad amount";
                v = v * 10 + (c - '0');
                if (v > MAX_AMOUNT_CENTS * 100) return "amount out of range";
            } else {
                return c == '-' ? "amount out of range" : "bad amount";
            }
        }
        if (decimals == 0) return "bad amount";
        for (int d = Math.max(decimals, 0); d < 2; d++) v *= 10;
        if (v == 0 || v > MAX_AMOUNT_CENTS) return "amount out of range";
        out.amountCents = v;
        return null;
    }

    private static final int[] CURRENCY_CODES = new int[CURRENCIES.length];

    static {
        for (int i = 0; i < CURRENCIES.length; i++) {
            CURRENCY_CODES[i] = CURRENCIES[i].charAt(0) << 16 | CURRENCIES[i].charAt(1) << 8 | CURRENCIES[i].charAt(2);
        }
    }

    static String parseCurrency(byte[] b, int from, int to, OrderFields out) {
        if (to - from == 3) { // three letters packed in an int: one compare per currency instead of a byte loop
            int code = b[from] << 16 | b[from + 1] << 8 | b[from + 2];
            for (int i = 0; i < CURRENCY_CODES.length; i++) {
                if (CURRENCY_CODES[i] == code) {
                    out.currency = i;
                    return null;
                }
            }
        }
        return "unknown currency";
    }

    static String parseStatus(byte[] b, int from, int to, OrderFields out) {
        int i = match(STATUS_BYTES, b, from, to);
        if (i < 0) return "unknown status";
        out.status = i;
        return null;
    }

    /** The customer is not aggregated: only checked to be {@code C} and digits. */
    static String checkCustomer(byte[] b, int from, int to) {
        if (to - from < 2 || b[from] != 'C') return "bad customer";
        for (int i = from + 1; i < to; i++) if (b[i] < '0' || b[i] > '9') return "bad customer";
        return null;
    }

    private static int match(byte[][] names, byte[] b, int from, int to) {
        int len = to - from;
        outer:
        for (int n = 0; n < names.length; n++) {
            byte[] name = names[n];
            if (name.length != len) continue;
            for (int i = 0; i < len; i++) if (name[i] != b[from + i]) continue outer;
            return n;
        }
        return -1;
    }

    private static boolean upper(byte c) { return c >= 'A' && c <= 'Z'; }

    private static int digits(byte[] b, int from, int n) {
        int v = 0;
        for (int i = from; i < from + n; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return -1;
            v = v * 10 + d;
        }
        return v;
    }

    private static int monthLength(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** Days since 1970-01-01 of a valid civil date (Howard Hinnant's days_from_civil; no LocalDate per record). */
    static int epochDay(int y, int m, int d) {
        y -= m <= 2 ? 1 : 0;
        int era = y / 400;
        int yoe = y - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }
}
