package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.BrokerContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker contract on Redis: one private redis-server for the class, a fresh key prefix per test (a fresh store),
 * and {@link #reopenBroker} a second broker instance, with its own connection pool, on the same prefix.
 */
class RedisBrokerTest extends BrokerContractTest {

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
        prefix = "contract-" + STORES.incrementAndGet() + ":";
        return RedisBroker.open(server.config(prefix));
    }

    @Override
    protected Broker reopenBroker() {
        return RedisBroker.open(server.config(prefix));
    }
}
