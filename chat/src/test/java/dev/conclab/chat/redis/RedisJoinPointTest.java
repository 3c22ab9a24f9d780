package dev.conclab.chat.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.core.ChatHub;
import dev.conclab.chat.core.RoomEvent;
import dev.conclab.chat.core.Session;
import dev.conclab.chat.core.Transport;
import dev.conclab.chat.protocol.CloseCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The join point over Redis: a member's view of a room starts exactly at its own {@code joined}, even when this
 * node's subscriber lags behind the join. The lag is forced: the subscriber is held (a latch in its delivery path)
 * on another node's message while a local client joins, so that message, sequenced before the join, is delivered
 * after the joiner is in the room. Without the join point the joiner receives it before its own {@code joined}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisJoinPointTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A transport that records closes; the test drains the outbox itself. */
    private static final class NoTransport implements Transport {
        @Override
        public void wake() {
        }

        @Override
        public void close(CloseCode code, String reason) {
        }
    }

    /** What a client has received so far, drained from its session's outbox. */
    private static final class Inbox {
        final Session session;
        final List<JsonNode> frames = new ArrayList<>();

        Inbox(ChatHub hub, String name) {
            session = hub.open(new NoTransport(), name);
        }

        /** Drains until a frame of {@code type} (with {@code name}, if given) arrives, at most 10 s. */
        JsonNode await(String type, String name) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int seen = 0;
            while (System.nanoTime() - deadline < 0) {
                String f;
                while ((f = session.poll()) != null) {
                    frames.add(JSON.readTree(f));
                }
                for (; seen < frames.size(); seen++) {
                    JsonNode n = frames.get(seen);
                    if (n.path("type").asText().equals(type) && (name == null || n.path("name").asText().equals(name))) {
                        return n;
                    }
                }
                Thread.sleep(2);
            }
            throw new AssertionError("no " + type + " " + name + " within 10 s; got " + frames);
        }

        List<String> types() {
            return frames.stream().map(n -> n.path("type").asText() + (n.has("name") ? " " + n.path("name").asText()
                    : n.has("text") ? " " + n.path("text").asText() : "")).toList();
        }
    }

    @Test
    void aJoinerSeesNothingSequencedBeforeItsOwnJoinedEvenWhenItsNodesSubscriberLags() throws Exception {
        try (RedisServerFixture redis = RedisServerFixture.start()) {
            ChatConfig config = ChatConfig.defaults().withPort(0);
            RedisBroadcaster bus1 = new RedisBroadcaster(redis.address());
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // Node 1's subscriber stops before delivering carol's "early" message until the test releases it.
            bus1.beforeDelivery = d -> {
                if (d.event() instanceof RoomEvent.Posted p && p.message().text().equals("early")) {
                    holding.countDown();
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            try (ChatHub node1 = new ChatHub(config, bus1, System::currentTimeMillis);
                 ChatHub node2 = new ChatHub(config, new RedisBroadcaster(redis.address()),
                         System::currentTimeMillis)) {
                Inbox alice = new Inbox(node1, "alice");
                alice.session.onText("{\"type\":\"join\",\"room\":\"r\"}");
                alice.await("joined", "alice");
                Inbox carol = new Inbox(node2, "carol");
                carol.session.onText("{\"type\":\"join\",\"room\":\"r\"}");
                carol.await("joined", "carol");
                alice.await("joined", "carol");

                carol.session.onText("{\"type\":\"send\",\"room\":\"r\",\"text\":\"early\"}");
                assertThat(holding.await(10, TimeUnit.SECONDS)).as("node 1's subscriber holds 'early'").isTrue();
                // bob joins on node 1 while node 1 has not delivered "early" yet: his join is sequenced after it.
                Inbox bob = new Inbox(node1, "bob");
                bob.session.onText("{\"type\":\"join\",\"room\":\"r\"}");
                release.countDown();

                bob.await("joined", "bob"); // delivered after "early" (channel order = id order)
                carol.await("joined", "bob");
                assertThat(bob.types()).as("bob's view starts at his own joined")
                        .containsExactly("welcome bob", "joined bob");
                assertThat(alice.await("message", null).path("text").asText()).isEqualTo("early");
                alice.await("joined", "bob");
                assertThat(alice.types()).containsSubsequence("message early", "joined bob");

                // After the join point bob gets every event, from either node.
                carol.session.onText("{\"type\":\"send\",\"room\":\"r\",\"text\":\"late\"}");
                assertThat(bob.await("message", null).path("text").asText()).isEqualTo("late");
            } finally {
                release.countDown();
            }
        }
    }
}
