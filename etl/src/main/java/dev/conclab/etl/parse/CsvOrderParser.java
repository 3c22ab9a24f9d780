package dev.conclab.etl.parse;

/**
 * {@code id,timestamp,customer,country,amount,currency,status}: seven unquoted fields (the generator never quotes;
 * a quote is rejected as a bad field rather than half-supported). Stateless and thread safe.
 */
public final class CsvOrderParser implements OrderParser {
    @Override
    public String parse(byte[] b, int from, int to, OrderFields out) {
        out.reset();
        if (to > from && b[to - 1] == '\r') to--;
        // Straight-line: find each comma with a tight loop and parse the field in place (no per-field dispatch).
        int e0 = comma(b, from, to);
        if (e0 < 0) return from == to ? "bad id" : "wrong field count";
        String r = Orders.parseId(b, from, e0, out);
        if (r != null) return r;
        int e1 = fixed(b, e0 + 1, 20, to);
        if (e1 < 0) return "wrong field count";
        if ((r = Orders.parseTimestamp(b, e0 + 1, e1, out)) != null) return r;
        int e2 = comma(b, e1 + 1, to);
        if (e2 < 0) return "wrong field count";
        if ((r = Orders.checkCustomer(b, e1 + 1, e2)) != null) return r;
        int e3 = fixed(b, e2 + 1, 2, to);
        if (e3 < 0) return "wrong field count";
        if ((r = Orders.parseCountry(b, e2 + 1, e3, out)) != null) return r;
        int e4 = comma(b, e3 + 1, to);
        if (e4 < 0) return "wrong field count";
        if ((r = Orders.parseAmount(b, e3 + 1, e4, out)) != null) return r;
        int e5 = fixed(b, e4 + 1, 3, to);
        if (e5 < 0) return "wrong field count";
        if ((r = Orders.parseCurrency(b, e4 + 1, e5, out)) != null) return r;
        if (comma(b, e5 + 1, to) >= 0) return "wrong field count";
        return Orders.parseStatus(b, e5 + 1, to, out);
    }

    @Override
    public int parseLine(byte[] b, int from, int end, OrderFields out) {
        return CsvFastPath.parseLine(b, from, end, out);
    }

    /**
     * The comma ending a field of known width when it is where expected (a comma earlier inside the field then fails
     * that field's own check), else the first comma.
     */
    private static int fixed(byte[] b, int from, int width, int to) {
        int e = from + width;
        return e < to && b[e] == ',' ? e : comma(b, from, to);
    }

    private static int comma(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) if (b[i] == ',') return i;
        return -1;
    }

    @Override
    public boolean isHeader(byte[] b, int from, int to) {
        return to - from >= 3 && b[from] == 'i' && b[from + 1] == 'd' && b[from + 2] == ',';
    }
}
