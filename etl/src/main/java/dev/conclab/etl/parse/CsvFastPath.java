package dev.conclab.etl.parse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The CSV hot path: parses a line in its common shape ({@code id,YYYY-MM-DDThh:mm:ssZ,Cdigits,CC,d{1,7}.dd,CUR,STATUS}
 * ending in {@code \n}) and finds its newline on the way, so each byte is looked at once, mostly eight at a time
 * (SWAR: SIMD within a long). It accepts a strict subset of what {@link CsvOrderParser#parse} accepts and sets the same
 * fields; anything else (a reject, a {@code \r}, an amount without two decimals...) returns -1 and the caller takes
 * the general path, which gives the reason. Stateless and thread safe.
 */
final class CsvFastPath {
    /** Bytes a line may span from its start, so every read below stays inside the caller's window. */
    static final int WINDOW = 128;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGHS = 0x8080_8080_8080_8080L;
    /** Added to a byte of at most 0x7F, sets its high bit exactly when the byte is above 9. */
    private static final long ABOVE_NINE = 0x7676_7676_7676_7676L;
    private static final long ZEROS = word("00000000"), DOTS = word("........");
    private static final long TS_DATE = word("0000-00-"), TS_TIME = word("00T00:00"), TS_SECONDS = word(":00Z");
    private static final long DATE_SEPARATORS = 0xFF00_00FF_0000_0000L, TIME_SEPARATORS = 0x0000_FF00_00FF_0000L;
    private static final long SECONDS_SEPARATORS = 0xFF00_00FFL;
    private static final long CUSTOMER = word("C0000000");

    /** Status index by {@code firstByte & 0x1F} (P, S, C, R are distinct there), -1 for any other letter. */
    private static final int[] STATUS_BY_FIRST = new int[32];
    /** Per status: its name and newline as up to 16 bytes, compared as two masked words. */
    private static final long[] STATUS_LO = new long[4], STATUS_LO_MASK = new long[4];
    private static final long[] STATUS_HI = new long[4], STATUS_HI_MASK = new long[4];
    /** A status's length by {@code firstByte & 0x1F}, beside {@link #STATUS_BY_FIRST}: the next line's start then
     * waits for one table load, not two in a row. */
    private static final int[] STATUS_LENGTH_BY_FIRST = new int[32];

    static {
        java.util.Arrays.fill(STATUS_BY_FIRST, -1);
        for (int s = 0; s < Orders.STATUSES.length; s++) {
            String name = Orders.STATUSES[s];
            int slot = name.charAt(0) & 0x1F;
            if (STATUS_BY_FIRST[slot] != -1) throw new AssertionError("status first letters collide: " + name);
            STATUS_BY_FIRST[slot] = s;
            String withNewline = name + "\n";
            STATUS_LENGTH_BY_FIRST[slot] = name.length();
            STATUS_LO[s] = word(withNewline.substring(0, Math.min(8, withNewline.length())));
            STATUS_LO_MASK[s] = mask(Math.min(8, withNewline.length()));
            STATUS_HI[s] = withNewline.length() > 8 ? word(withNewline.substring(8)) : 0;
            STATUS_HI_MASK[s] = withNewline.length() > 8 ? mask(withNewline.length() - 8) : 0;
        }
    }

    /** Currency index by a multiplicative hash of its three letters, checked against the letters themselves. */
    private static final int CURRENCY_SHIFT = 28;
    private static final int CURRENCY_MULTIPLIER;
    private static final int[] CURRENCY_BY_HASH = new int[1 << (32 - CURRENCY_SHIFT)];
    private static final int[] CURRENCY_CODE_BY_HASH = new int[1 << (32 - CURRENCY_SHIFT)];

    static {
        int multiplier = 0x9E3779B1;
        search:
        for (; ; multiplier += 2) {
            java.util.Arrays.fill(CURRENCY_CODE_BY_HASH, -1);
            for (int c = 0; c < Orders.CURRENCIES.length; c++) {
                int code = code(Orders.CURRENCIES[c]);
                int h = (code * multiplier) >>> CURRENCY_SHIFT;
                if (CURRENCY_CODE_BY_HASH[h] != -1) continue search;
                CURRENCY_CODE_BY_HASH[h] = code;
                CURRENCY_BY_HASH[h] = c;
            }
            break;
        }
        CURRENCY_MULTIPLIER = multiplier;
    }

    private CsvFastPath() {}

    private static long word(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        long w = 0;
        for (int i = b.length - 1; i >= 0; i--) w = w << 8 | (b[i] & 0xFF);
        return w;
    }

    private static long mask(int bytes) { return bytes >= 8 ? -1L : (1L << (8 * bytes)) - 1; }

    private static int code(String currency) {
        return currency.charAt(0) << 16 | currency.charAt(1) << 8 | currency.charAt(2);
    }

    /** Whether every byte of {@code x} is at most 9. */
    private static boolean allDigits(long x) {
        return (((x + ABOVE_NINE) | x) & HIGHS) == 0;
    }

    /**
     * Parses the line starting at {@code p} into {@code out} if it is a good record in the common shape.
     *
     * @param end the end of the valid bytes; needs {@code end - p >= WINDOW} (else returns -1)
     * @return the index of the line's {@code \n}, or -1 if the general path must decide
     */
    static int parseLine(byte[] b, int p, int end, OrderFields out) {
        if (end - p < WINDOW) return -1;
        // id: up to 8 digits in one word (the first byte above 9 after XOR '0' ends them), else 1 to 18 digits
        long id;
        int i;
        long idWord = (long) LONGS.get(b, p) ^ ZEROS;
        int idLength = Long.numberOfTrailingZeros(((idWord + ABOVE_NINE) | idWord) & HIGHS) >>> 3; // 8: all digits
        if (idLength > 0 && b[p + idLength] == ',') {
            id = parseEightDigits(idLength == 8 ? idWord : (idWord & mask(idLength)) << (8 * (8 - idLength)));
            i = p + idLength;
        } else {
            id = 0;
            i = p;
            for (int d; i < p + 18 && (d = b[i] - '0') >= 0 && d <= 9; i++) id = id * 10 + d;
            if (i == p || b[i] != ',') return -1;
        }
        // timestamp: three words XORed with its template leave digit values and zero separators
        int t = i + 1;
        long date = (long) LONGS.get(b, t) ^ TS_DATE;
        long time = (long) LONGS.get(b, t + 8) ^ TS_TIME;
        long seconds = ((long) LONGS.get(b, t + 12) >>> 32) ^ TS_SECONDS;
        if (((date & DATE_SEPARATORS) | (time & TIME_SEPARATORS) | (seconds & SECONDS_SEPARATORS)) != 0
                || !allDigits(date) || !allDigits(time) || !allDigits(seconds) || b[t + 20] != ',') {
            return -1;
        }
        // time: only validated (hh <= 23, tens of minutes and seconds <= 5; the digits are checked above)
        int hour = (int) (time >>> 24 & 0xFF) * 10 + (int) (time >>> 32 & 0xFF);
        if (((23 - hour) | (5 - (int) (time >>> 48 & 0xFF)) | (5 - (int) (seconds >>> 8 & 0xFF))) < 0) return -1;
        // date: the day's two digits moved into the date word's zero separator bytes make a key of all ten digits,
        // looked up in the thread's cache of recent dates (a range holds few distinct days) before any arithmetic
        long dateKey = date | (time & 0xFF) << 32 | (time >>> 8 & 0xFF) << 56;
        int slot = (int) ((dateKey * 0x9E3779B97F4A7C15L) >>> (64 - OrderFields.DATE_CACHE_BITS));
        int epochDay;
        if (out.dateKeys[slot] == dateKey) {
            epochDay = out.dateDays[slot];
        } else {
            epochDay = epochDay(date, time);
            if (epochDay < 0) return -1;
            out.dateKeys[slot] = dateKey;
            out.dateDays[slot] = epochDay;
        }
        // customer: C and seven digits in one word, else C and 1 to 40 digits
        int u = t + 21;
        int v;
        long customer = (long) LONGS.get(b, u) ^ CUSTOMER;
        if ((customer & 0xFF) == 0 && allDigits(customer) && b[u + 8] == ',') {
            v = u + 9;
        } else {
            if (b[u] != 'C') return -1;
            int j = u + 1;
            for (int d; j < u + 41 && (d = b[j] - '0') >= 0 && d <= 9; ) j++;
            if (j == u + 1 || b[j] != ',') return -1;
            v = j + 1;
        }
        // country: two capitals
        int c0 = b[v] - 'A', c1 = b[v + 1] - 'A';
        if ((c0 | c1 | (25 - c0) | (25 - c1)) < 0 || b[v + 2] != ',') return -1;
        // amount: 1 to 7 digits, a point and two digits, the point found in one word
        int m = v + 3;
        long amount = (long) LONGS.get(b, m);
        long dots = amount ^ DOTS;
        long dotHit = (dots - ONES) & ~dots & HIGHS;
        int k = Long.numberOfTrailingZeros(dotHit) >>> 3; // 8 when there is no point in the word
        if (k == 0 || k == 8) return -1;
        long digits = (amount ^ ZEROS) & ((1L << (8 * k)) - 1);
        int f1 = b[m + k + 1] - '0', f2 = b[m + k + 2] - '0';
        if (!allDigits(digits) || (f1 | f2 | (9 - f1) | (9 - f2)) < 0 || b[m + k + 3] != ',') return -1;
        long cents = parseEightDigits(digits << (8 * (8 - k))) * 100 + f1 * 10 + f2;
        if (cents == 0 || cents > Orders.MAX_AMOUNT_CENTS) return -1;
        // currency: a perfect hash of the three letters
        int q = m + k + 4;
        int code = (b[q] & 0xFF) << 16 | (b[q + 1] & 0xFF) << 8 | (b[q + 2] & 0xFF);
        int h = (code * CURRENCY_MULTIPLIER) >>> CURRENCY_SHIFT;
        if (CURRENCY_CODE_BY_HASH[h] != code || b[q + 3] != ',') return -1;
        // status and newline: chosen by the first letter, checked as two masked words
        int s = q + 4;
        int first = b[s] & 0x1F;
        int status = STATUS_BY_FIRST[first];
        if (status < 0) return -1;
        long lo = (long) LONGS.get(b, s), hi = (long) LONGS.get(b, s + 8);
        if ((((lo ^ STATUS_LO[status]) & STATUS_LO_MASK[status])
                | ((hi ^ STATUS_HI[status]) & STATUS_HI_MASK[status])) != 0) {
            return -1;
        }
        out.id = id;
        out.epochDay = epochDay;
        out.country = b[v] << 8 | b[v + 1];
        out.amountCents = cents;
        out.currency = CURRENCY_BY_HASH[h];
        out.status = status;
        return s + STATUS_LENGTH_BY_FIRST[first];
    }

    /** The day since the epoch of a date of digit values, or -1 if it is out of range or not in the calendar. */
    private static int epochDay(long date, long time) {
        int year = (int) (date & 0xFF) * 1000 + (int) (date >>> 8 & 0xFF) * 100 + (int) (date >>> 16 & 0xFF) * 10
                + (int) (date >>> 24 & 0xFF);
        int month = (int) (date >>> 40 & 0xFF) * 10 + (int) (date >>> 48 & 0xFF);
        int day = (int) (time & 0xFF) * 10 + (int) (time >>> 8 & 0xFF);
        // one sign test for every range (each term is negative when out of range)
        if (((year - Orders.MIN_YEAR) | (Orders.MAX_YEAR - year) | (month - 1) | (12 - month) | (day - 1)) < 0) {
            return -1;
        }
        int monthIndex = (year - Orders.MIN_YEAR) * 12 + month - 1;
        if (day > Orders.MONTH_LENGTH[monthIndex]) return -1;
        return Orders.MONTH_START[monthIndex] + day - 1;
    }

    /**
     * The value of eight digit values (0..9), most significant in the lowest byte, in three multiplies (the
     * well-known SWAR digit parse).
     */
    private static long parseEightDigits(long v) {
        v = v * 10 + (v >>> 8);
        return (((v & 0x0000_00FF_0000_00FFL) * (100 + (1_000_000L << 32)))
                + (((v >>> 16) & 0x0000_00FF_0000_00FFL) * (1 + (10_000L << 32)))) >>> 32;
    }
}
