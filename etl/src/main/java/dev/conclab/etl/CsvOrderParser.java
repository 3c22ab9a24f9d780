package dev.conclab.etl;

/**
 * {@code id,timestamp,customer,country,amount,currency,status}: seven unquoted fields (the generator never quotes;
 * a quote is rejected as a bad field rather than half-supported). Stateless and thread safe.
 */
public final class CsvOrderParser implements OrderParser {
    private static final int FIELDS = 7;

    @Override
    public String parse(byte[] b, int from, int to, OrderFields out) {
        out.reset();
        if (to > from && b[to - 1] == '\r') to--;
        int start = from;
        int field = 0;
        for (int i = from; i <= to; i++) {
            if (i < to && b[i] != ',') continue;
            if (field >= FIELDS) return "wrong field count";
            String reason = switch (field) {
                case 0 -> Orders.parseId(b, start, i, out);
                case 1 -> Orders.parseTimestamp(b, start, i, out);
                case 2 -> Orders.checkCustomer(b, start, i);
                case 3 -> Orders.parseCountry(b, start, i, out);
                case 4 -> Orders.parseAmount(b, start, i, out);
                case 5 -> Orders.parseCurrency(b, start, i, out);
                default -> Orders.parseStatus(b, start, i, out);
            };
            if (reason != null) return reason;
            field++;
            start = i + 1;
        }
        return field == FIELDS ? null : "wrong field count";
    }

    @Override
    public boolean isHeader(byte[] b, int from, int to) {
        return to - from >= 3 && b[from] == 'i' && b[from + 1] == 'd' && b[from + 2] == ',';
    }
}
