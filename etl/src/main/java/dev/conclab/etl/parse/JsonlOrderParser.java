package dev.conclab.etl.parse;

/**
 * One flat JSON object per line with the keys {@code id, ts, customer, country, amount, currency, status} in any
 * order; string values without escapes (an escape is rejected), numbers for {@code id} and {@code amount}. Scans the
 * bytes once, no tree and no String per line. Stateless and thread safe.
 */
public final class JsonlOrderParser implements OrderParser {
    private static final int ALL = 0b111_1111;

    @Override
    public String parse(byte[] b, int from, int to, OrderFields out) {
        out.reset();
        int i = skipWs(b, from, to);
        if (i >= to || b[i] != '{') return "not a JSON object";
        i = skipWs(b, i + 1, to);
        while (true) {
            if (i >= to || b[i] != '"') return "malformed JSON";
            int keyStart = i + 1;
            int keyEnd = indexOf(b, keyStart, to, (byte) '"');
            if (keyEnd < 0) return "malformed JSON";
            i = skipWs(b, keyEnd + 1, to);
            if (i >= to || b[i] != ':') return "malformed JSON";
            i = skipWs(b, i + 1, to);
            int valueStart, valueEnd;
            boolean string = i < to && b[i] == '"';
            if (string) {
                valueStart = i + 1;
                valueEnd = indexOf(b, valueStart, to, (byte) '"');
                if (valueEnd < 0) return "malformed JSON";
                for (int k = valueStart; k < valueEnd; k++) if (b[k] == '\\') return "escaped string";
                i = valueEnd + 1;
            } else {
                valueStart = i;
                while (i < to && b[i] != ',' && b[i] != '}' && b[i] != ' ') i++;
                valueEnd = i;
            }
            String reason = field(b, keyStart, keyEnd, valueStart, valueEnd, string, out);
            if (reason != null) return reason;
            i = skipWs(b, i, to);
            if (i >= to) return "malformed JSON";
            if (b[i] == '}') break;
            if (b[i] != ',') return "malformed JSON";
            i = skipWs(b, i + 1, to);
        }
        if (skipWs(b, i + 1, to) != to) return "malformed JSON";
        return out.seen == ALL ? null : "missing field";
    }

    private static String field(byte[] b, int ks, int ke, int vs, int ve, boolean string, OrderFields out) {
        int bit = key(b, ks, ke);
        if (bit < 0) return "unknown field";
        if ((out.seen & 1 << bit) != 0) return "duplicate field";
        out.seen |= 1 << bit;
        boolean wantsString = bit != 0 && bit != 4;
        if (string != wantsString) return "wrong field type";
        return switch (bit) {
            case 0 -> Orders.parseId(b, vs, ve, out);
            case 1 -> Orders.parseTimestamp(b, vs, ve, out);
            case 2 -> Orders.checkCustomer(b, vs, ve);
            case 3 -> Orders.parseCountry(b, vs, ve, out);
            case 4 -> Orders.parseAmount(b, vs, ve, out);
            case 5 -> Orders.parseCurrency(b, vs, ve, out);
            default -> Orders.parseStatus(b, vs, ve, out);
        };
    }

    /** The field's bit: 0 id, 1 ts, 2 customer, 3 country, 4 amount, 5 currency, 6 status; -1 if unknown. */
    private static int key(byte[] b, int s, int e) {
        return switch (e - s) {
            case 2 -> b[s] == 'i' && b[s + 1] == 'd' ? 0 : b[s] == 't' && b[s + 1] == 's' ? 1 : -1;
            case 8 -> is(b, s, "customer") ? 2 : is(b, s, "currency") ? 5 : -1;
            case 7 -> is(b, s, "country") ? 3 : -1;
            case 6 -> is(b, s, "amount") ? 4 : is(b, s, "status") ? 6 : -1;
            default -> -1;
        };
    }

    private static boolean is(byte[] b, int s, String name) {
        for (int i = 0; i < name.length(); i++) if (b[s + i] != name.charAt(i)) return false;
        return true;
    }

    private static int indexOf(byte[] b, int from, int to, byte c) {
        for (int i = from; i < to; i++) if (b[i] == c) return i;
        return -1;
    }

    private static int skipWs(byte[] b, int i, int to) {
        while (i < to && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r')) i++;
        return i;
    }

    @Override
    public boolean isHeader(byte[] b, int from, int to) { return false; }
}
