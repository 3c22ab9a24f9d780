package dev.conclab.etl.load;

import dev.conclab.etl.scan.Aggregates;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;

/** JSON lines: {@code {"country":..,"day":..,"orders":..,"amount_eur":..}} per row, written atomically. Not thread safe. */
public final class JsonlAggregateSink implements AggregateSink {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path path;

    JsonlAggregateSink(Path path) { this.path = path; }

    @Override
    public void load(Aggregates totals) throws IOException {
        AtomicFiles.write(path, out -> {
            for (long key : totals.sortedKeys()) {
                ObjectNode row = JSON.createObjectNode();
                row.put("country", Aggregates.country(key));
                row.put("day", AggregateSink.day(key));
                row.put("orders", totals.count(key));
                row.put("amount_eur", BigDecimal.valueOf(totals.sum(key), 2));
                out.write(JSON.writeValueAsString(row));
                out.write('\n');
            }
        });
    }

    @Override
    public String describe() { return "JSON lines " + path; }
}
