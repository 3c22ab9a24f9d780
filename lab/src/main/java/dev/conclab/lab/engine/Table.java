package dev.conclab.lab.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A table of measurements: a title, column names and rows of cells (strings or numbers). Rows are kept in the
 * order they were added. Built by one thread, then immutable once passed to {@link RunContext#table}.
 */
public record Table(String title, List<String> columns, List<List<Object>> rows) {

    public Table {
        columns = List.copyOf(columns);
        rows = rows.stream().map(r -> List.copyOf(r.stream().map(c -> c == null ? (Object) "" : c).toList())).toList();
        for (List<Object> row : rows) {
            if (row.size() != columns.size()) {
                throw new IllegalArgumentException("table '" + title + "': row " + row + " has " + row.size()
                        + " cells for " + columns.size() + " columns");
            }
        }
    }

    public static Builder builder(String title, String... columns) {
        return new Builder(title, List.of(columns));
    }

    /** Collects rows; not thread-safe. */
    public static final class Builder {
        private final String title;
        private final List<String> columns;
        private final List<List<Object>> rows = new ArrayList<>();

        private Builder(String title, List<String> columns) {
            this.title = title;
            this.columns = columns;
        }

        public Builder row(Object... cells) {
            rows.add(List.of(cells));
            return this;
        }

        public Table build() {
            return new Table(title, columns, rows);
        }
    }
}
