package dev.conclab.etl.parse;

/**
 * Parses one line of bytes (without its newline) into an {@link OrderFields}. Implementations are stateless and
 * thread safe; they allocate nothing for a good record.
 */
public sealed interface OrderParser permits CsvOrderParser, JsonlOrderParser {

    /**
     * Parses {@code b[from, to)} into {@code out}.
     *
     * @return {@code null} if the record is good, else the reason it is rejected
     */
    String parse(byte[] b, int from, int to, OrderFields out);

    /**
     * The hot path: parses the line starting at {@code from} and finds its newline in the same pass, if the line is
     * a good record in the format's common shape. It never rejects: for anything else (a malformed record, an
     * unusual but valid spelling, a line too close to {@code end}) it returns -1, and the caller finds the newline
     * and calls {@link #parse}, which gives the reason. A line it accepts gets the same fields {@link #parse} sets.
     *
     * @param end the end of the valid bytes of {@code b}
     * @return the index of the line's newline, or -1
     */
    default int parseLine(byte[] b, int from, int end, OrderFields out) {
        return -1;
    }

    /** Whether the line is a header to skip (only asked of a file's first line). */
    boolean isHeader(byte[] b, int from, int to);

    /** The parser for {@code format}. */
    static OrderParser of(RecordFormat format) {
        return switch (format) {
            case CSV -> new CsvOrderParser();
            case JSONL -> new JsonlOrderParser();
        };
    }
}
