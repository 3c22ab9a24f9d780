package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.worker.WorkerFaultsContract;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The worker faults on Redis: one private redis-server for the class, a fresh key prefix per test (a fresh store);
 * workers, and the child JVMs of the kill -9 and SIGTERM tests, open their own brokers on the same prefix.
 */
class RedisWorkerFaultsTest extends WorkerFaultsContract {

    private static final AtomicInteger STORES = new AtomicInteger();
    private static RedisServerFixture server;
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServerFixture.startVolatile();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected Broker openBroker() {
        prefix = "faults-" + STORES.incrementAndGet() + ":";
        return RedisBroker.open(server.config(prefix));
    }

    @Override
    protected Broker reopenBroker() {
        return RedisBroker.open(server.config(prefix));
    }

    @Override
    protected String brokerUrl() {
        return "redis://127.0.0.1:" + server.port() + "?prefix=" + prefix;
    }
}
