package dev.conclab.etl.load;

import dev.conclab.etl.scan.Aggregates;

import java.io.IOException;
import java.nio.file.Path;

/** CSV: {@code country,day,orders,amount_eur}, written atomically. Not thread safe. */
public final class CsvAggregateSink implements AggregateSink {
    private final Path path;

    CsvAggregateSink(Path path) { this.path = path; }

    @Override
    public void load(Aggregates totals) throws IOException {
        AtomicFiles.write(path, out -> {
            out.write("country,day,orders,amount_eur\n");
            for (long key : totals.sortedKeys()) {
                out.write(Aggregates.country(key) + "," + AggregateSink.day(key) + "," + totals.count(key) + ","
                        + AggregateSink.euros(totals.sum(key)) + "\n");
            }
        });
    }

    @Override
    public String describe() { return "CSV " + path; }
}
