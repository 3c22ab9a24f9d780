package dev.conclab.chat.redis;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.core.Broadcaster;
import dev.conclab.chat.core.LocalBroadcaster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What a node does when Redis goes away and comes back, and that a node without a Redis address connects to none.
 * In-process servers (one node is enough for these).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisOutageTest {

    private static ChatConfig config() {
        return ChatConfig.defaults().withPort(0).withIoThreads(1);
    }

    @Test
    void redisGoingAwayCostsTheSenderItsConnectionNotTheServerAndTheNodeRecovers() throws Exception {
        try (RedisServerFixture redis = RedisServerFixture.start();
             HttpClient http = HttpClient.newHttpClient()) {
            ChatServer server = ChatModel.EVENTLOOP.start(config().withRedis(redis.address()));
            try {
                NodeClient alice = NodeClient.connect(http, server.port(), "alice");
                alice.send("join", "room", "lobby");
                assertThat(alice.expect("joined").path("name").asText()).isEqualTo("alice");

                redis.stop();
                alice.send("send", "room", "lobby", "text", "into the void");
                assertThat(alice.closed.get(10, TimeUnit.SECONDS)).as("1011: unexpected condition").isEqualTo(1011);

                // the server is up, and serves what needs no Redis
                try (NodeClient carol = NodeClient.connect(http, server.port(), "carol")) {
                    carol.send("who", "room", "lobby");
                    assertThat(carol.expect("presence").path("room").asText()).isEqualTo("lobby");
                }

                redis.restart(); // same port, empty
                try (Jedis check = redis.client()) {
                    await().atMost(Duration.ofSeconds(15)).until(() ->
                            check.pubsubNumSub(RedisBroadcaster.CHANNEL).get(RedisBroadcaster.CHANNEL) == 1L);
                }
                try (NodeClient dave = NodeClient.connect(http, server.port(), "dave")) {
                    dave.send("join", "room", "lobby");
                    assertThat(dave.expect("joined").path("name").asText()).isEqualTo("dave");
                    dave.send("send", "room", "lobby", "text", "back", "ref", "d1");
                    JsonNode message = dave.expect("message");
                    assertThat(message.path("text").asText()).isEqualTo("back");
                    assertThat(dave.expect("ack").path("id").asLong()).isEqualTo(message.path("id").asLong());
                }
                alice.close();
            } finally {
                server.close(Duration.ofSeconds(2));
            }
            try (Jedis check = redis.client()) {
                assertThat(check.clientList()).as("the node's connections are closed").doesNotContain("conclab-chat-");
            }
        }
    }

    @Test
    void aServerThatCannotReachRedisDoesNotStart() throws Exception {
        int port;
        try (RedisServerFixture redis = RedisServerFixture.start()) {
            port = redis.port();
        } // stopped: nothing listens there now
        ChatConfig unreachable = config().withRedis(new ChatConfig.RedisAddress("127.0.0.1", port));
        assertThatThrownBy(() -> ChatModel.EVENTLOOP.start(unreachable))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot reach redis at 127.0.0.1:" + port);
    }

    @Test
    void withoutARedisAddressNothingConnectsToRedis() throws Exception {
        assertThat(ChatConfig.defaults().redis()).isEmpty();
        assertThat(Broadcaster.of(config())).isInstanceOf(LocalBroadcaster.class);
        try (HttpClient http = HttpClient.newHttpClient()) {
            ChatServer server = ChatModel.EVENTLOOP.start(config());
            try (NodeClient alice = NodeClient.connect(http, server.port(), "alice")) {
                alice.send("join", "room", "solo");
                alice.expect("joined");
                alice.send("send", "room", "solo", "text", "alone", "ref", "s1");
                assertThat(alice.expect("message").path("id").asLong()).isEqualTo(1); // the local counter
                alice.expect("ack");
            } finally {
                server.close(Duration.ofSeconds(2));
            }
        }
    }

    @Test
    void redisAddressesAreValidated() {
        assertThat(ChatConfig.RedisAddress.parse("127.0.0.1:6379")).isEqualTo(new ChatConfig.RedisAddress("127.0.0.1", 6379));
        assertThat(ChatConfig.RedisAddress.parse("[::1]:7000").host()).isEqualTo("::1");
        assertThat(ChatConfig.RedisAddress.parse("[::1]:7000").toString()).isEqualTo("[::1]:7000");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("localhost"))
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("localhost:0"))
                .hasMessageContaining("redis port must be in 1..65535");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("localhost:70000"))
                .hasMessageContaining("redis port must be in 1..65535");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("localhost:x"))
                .hasMessageContaining("port is not a number");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("a b:1"))
                .hasMessageContaining("host name or IP address");
        assertThatThrownBy(() -> ChatConfig.RedisAddress.parse("::1:6379"))
                .hasMessageContaining("brackets");
    }
}
