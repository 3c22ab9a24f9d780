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
