package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The broker contract on one SQLite file per test; {@link #reopenBroker} opens a second connection to it. */
class SqliteBrokerTest extends BrokerContractTest {

    @TempDir
    Path dir;

    private Path file;

    @Override
    protected Broker openBroker() {
        file = dir.resolve("broker.db");
        return SqliteBroker.open(file);
    }

    @Override
    protected Broker reopenBroker() {
        return SqliteBroker.open(file);
    }
}
