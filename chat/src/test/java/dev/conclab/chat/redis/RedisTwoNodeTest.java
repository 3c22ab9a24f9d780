package dev.conclab.chat.redis;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two chat servers in two JVMs joined by a real redis-server (started here on a free loopback port) are one chat:
 * room messages both ways with cluster-wide increasing ids, one order of a room's messages on both nodes, presence of
 * both nodes, joins and leaves across nodes. Every process is stopped in {@code finally}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisTwoNodeTest {

    /** A chat server process: {@link ChatNodeMain} on the test class path. */
    record Node(Process process, int port) implements AutoCloseable {

        static Node start(String redis) throws Exception {
            Process p = JvmLauncher.ofCurrentJvm().withOptions("-Xmx256m", "-XX:TieredStopAtLevel=1")
                    .start(ChatNodeMain.class, "eventloop", redis);
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8));
                CompletableFuture<String> line = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        line.complete(out.readLine());
                    } catch (Exception e) {
                        line.completeExceptionally(e);
                    }
                });
                String first = line.get(60, TimeUnit.SECONDS);
                if (first == null || !first.startsWith("PORT ")) {
                    throw new AssertionError("node did not start: " + first);
                }
                return new Node(p, Integer.parseInt(first.substring(5).trim()));
            } catch (Exception | AssertionError e) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw e;
            }
        }

        /** Closing stdin asks for a graceful stop; a node that does not exit in time is killed. */
        @Override
        public void close() throws InterruptedException {
            try {
                process.getOutputStream().close();
            } catch (java.io.IOException e) {
                // already gone
            }
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void twoServerProcessesAreOneChat() throws Exception {
        try (RedisServerFixture redis = RedisServerFixture.start();
             Node a = Node.start(redis.address().toString());
             Node b = Node.start(redis.address().toString());
             HttpClient http = HttpClient.newHttpClient();
             NodeClient alice = NodeClient.connect(http, a.port(), "alice");
             NodeClient bob = NodeClient.connect(http, b.port(), "bob")) {

            alice.send("join", "room", "lobby");
            assertThat(alice.expect("joined").path("name").asText()).isEqualTo("alice");
            bob.send("join", "room", "lobby");
            JsonNode joined = bob.expect("joined");
            if (joined.path("name").asText().equals("alice")) {
                // Known gap (README): alice's join was sequenced before bob's, but B's subscriber delivered it only
                // after bob had been added to B's room, so bob sees it too. Nothing else may come first.
                joined = bob.expect("joined");
            }
            assertThat(joined.path("name").asText()).isEqualTo("bob");
            assertThat(alice.expect("joined").path("name").asText()).as("B's join seen on A").isEqualTo("bob");

            // presence lists the members of both nodes, in join order, asked on either node
            for (NodeClient c : List.of(alice, bob)) {
                c.send("who", "room", "lobby");
                assertThat(names(c.expect("presence"))).containsExactly("alice", "bob");
            }

            // A -> B
            alice.send("send", "room", "lobby", "text", "hi from A", "ref", "a1");
            JsonNode atBob = bob.expect("message");
            assertThat(atBob.path("from").asText()).isEqualTo("alice");
            assertThat(atBob.path("text").asText()).isEqualTo("hi from A");
            long id1 = atBob.path("id").asLong();
            assertThat(alice.expect("message").path("id").asLong()).isEqualTo(id1); // her own copy, then the ack
            assertThat(alice.expect("ack").path("id").asLong()).isEqualTo(id1);

            // B -> A: a later message has a larger id, cluster-wide
            bob.send("send", "room", "lobby", "text", "hi from B", "ref", "b1");
            JsonNode atAlice = alice.expect("message");
            assertThat(atAlice.path("from").asText()).isEqualTo("bob");
            assertThat(atAlice.path("id").asLong()).isGreaterThan(id1);
            assertThat(bob.expect("message").path("id").asLong()).isEqualTo(atAlice.path("id").asLong());
            assertThat(bob.expect("ack").path("id").asLong()).isEqualTo(atAlice.path("id").asLong());

            // both nodes post at once: each member sees the room's messages in one order, ids increasing
            int each = 12;
            Thread fromA = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < each; i++) {
                    alice.send("send", "room", "lobby", "text", "a" + i);
                }
            });
            Thread fromB = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < each; i++) {
                    bob.send("send", "room", "lobby", "text", "b" + i);
                }
            });
            fromA.join();
            fromB.join();
            List<String> orderAtA = roomOrder(alice, 2 * each, each);
            List<String> orderAtB = roomOrder(bob, 2 * each, each);
            assertThat(orderAtA).hasSize(2 * each).isEqualTo(orderAtB);

            // direct messages are per node (documented): a name on the other node is unknown here
            alice.send("dm", "to", "bob", "text", "psst");
            assertThat(alice.expect("error").path("code").asText()).isEqualTo("unknown-user");

            // a leave on B reaches A, and presence follows
            bob.send("leave", "room", "lobby");
            assertThat(bob.expect("left").path("name").asText()).isEqualTo("bob");
            JsonNode left = alice.expect("left");
            assertThat(left.path("name").asText()).isEqualTo("bob");
            alice.send("who", "room", "lobby");
            assertThat(names(alice.expect("presence"))).containsExactly("alice");

            try (Jedis check = redis.client()) {
                assertThat(check.pubsubNumSub(RedisBroadcaster.CHANNEL).get(RedisBroadcaster.CHANNEL))
                        .as("one subscriber per node").isEqualTo(2L);
            }
        }
    }

    /**
     * Takes {@code messages} room messages and {@code acks} acks from {@code c}; returns "id:text" of the messages in
     * arrival order, checking their ids strictly increase and that each ack comes after the message it acknowledges.
     */
    private static List<String> roomOrder(NodeClient c, int messages, int acks) throws InterruptedException {
        List<String> order = new ArrayList<>();
        long last = 0;
        int acked = 0;
        while (order.size() < messages || acked < acks) {
            JsonNode m = c.next();
            switch (m.path("type").asText()) {
                case "message" -> {
                    long id = m.path("id").asLong();
                    assertThat(id).as("ids increase in the room's order").isGreaterThan(last);
                    last = id;
                    order.add(id + ":" + m.path("text").asText());
                }
                case "ack" -> {
                    assertThat(m.path("id").asLong()).as("an ack follows its message").isLessThanOrEqualTo(last);
                    acked++;
                }
                default -> throw new AssertionError("unexpected " + m);
            }
        }
        return order;
    }

    private static List<String> names(JsonNode presence) {
        List<String> names = new ArrayList<>();
        presence.path("members").forEach(n -> names.add(n.asText()));
        return names;
    }
}
