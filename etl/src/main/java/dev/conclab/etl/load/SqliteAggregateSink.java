package dev.conclab.etl.load;

import dev.conclab.etl.scan.Aggregates;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * SQLite: table {@code orders_by_country_day(country, day, orders, amount_eur_cents)}, replaced in one transaction
 * and inserted in batches of {@value #BATCH} rows. Not thread safe.
 */
public final class SqliteAggregateSink implements AggregateSink {
    static final int BATCH = 1_000;
    private final Path db;

    SqliteAggregateSink(Path db) { this.db = db; }

    @Override
    public void load(Aggregates totals) throws SQLException {
        Path abs = db.toAbsolutePath();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + abs)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS orders_by_country_day (country TEXT NOT NULL, day TEXT NOT NULL,"
                        + " orders INTEGER NOT NULL, amount_eur_cents INTEGER NOT NULL, PRIMARY KEY (country, day))");
                s.execute("DELETE FROM orders_by_country_day");
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO orders_by_country_day VALUES (?, ?, ?, ?)")) {
                int n = 0;
                for (long key : totals.sortedKeys()) {
                    ins.setString(1, Aggregates.country(key));
                    ins.setString(2, AggregateSink.day(key));
                    ins.setLong(3, totals.count(key));
                    ins.setLong(4, totals.sum(key));
                    ins.addBatch();
                    if (++n % BATCH == 0) ins.executeBatch();
                }
                ins.executeBatch();
            }
            c.commit();
        }
    }

    @Override
    public String describe() { return "SQLite " + db; }
}
