package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The worker faults on one SQLite file per test; workers (and child JVMs) open their own connections to it. */
class SqliteWorkerFaultsTest extends WorkerFaultsContract {

    @TempDir
    Path dir;

    private Path file;

    @Override
    protected Broker openBroker() {
        file = dir.resolve("jobs.db");
        return SqliteBroker.open(file);
    }

    @Override
    protected Broker reopenBroker() {
        return SqliteBroker.open(file);
    }

    @Override
    protected String brokerUrl() {
        return "sqlite:" + file;
    }
}
