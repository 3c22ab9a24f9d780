package dev.conclab.chat.redis;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.contract.ChatProtocolContract;
import dev.conclab.chat.netty.NettyChatServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole protocol contract against the event-loop model with its events going through Redis (one node): the
 * Redis bus changes nothing a client of one node can see.
 */
class RedisContractTest extends ChatProtocolContract {

    private static RedisServerFixture redis;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = RedisServerFixture.start();
    }

    @AfterAll
    static void stopRedis() throws InterruptedException {
        if (redis != null) {
            redis.close();
        }
    }

    @Override
    protected ChatServer start(ChatConfig config) {
        return NettyChatServer.start(config.withRedis(redis.address()));
    }
}
