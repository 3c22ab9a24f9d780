package dev.conclab.chat.redis;

import dev.conclab.chat.core.RoomEvent;
import dev.conclab.chat.protocol.ChatMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bus alone against a real redis-server: sequencing, own echo as the delivery path, presence, cleanup. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisBroadcasterTest {

    private static RoomEvent take(LinkedBlockingQueue<Object> q) throws InterruptedException {
        Object o = q.poll(10, TimeUnit.SECONDS);
        assertThat(o).as("an event within 10 s").isInstanceOf(RoomEvent.class);
        return (RoomEvent) o;
    }

    @Test
    void eventsComeBackThroughRedisInIdOrderAndTheAckFollowsDelivery() throws Exception {
        try (RedisServerFixture redis = RedisServerFixture.start()) {
            LinkedBlockingQueue<Object> seen = new LinkedBlockingQueue<>();
            RedisBroadcaster a = new RedisBroadcaster(redis.address());
            RedisBroadcaster b = new RedisBroadcaster(redis.address());
            try {
                a.start(seen::add);
                b.start(e -> { }); // a second node publishing into the same sequence
                a.publish(new RoomEvent.Joined("r", "alice"));
                b.publish(new RoomEvent.Joined("r", "bob"));
                assertThat(take(seen)).isEqualTo(new RoomEvent.Joined("r", "alice"));
                assertThat(take(seen)).isEqualTo(new RoomEvent.Joined("r", "bob"));
                assertThat(a.presence("r", List.of())).containsExactly("alice", "bob");
                assertThat(b.presence("r", List.of())).containsExactly("alice", "bob");

                try (Jedis j = redis.client()) { // garbage on the channel is dropped, the subscription goes on
                    j.publish(RedisBroadcaster.CHANNEL, "not an event");
                }
                long[] acked = new long[2];
                a.post(new ChatMessage(0, "r", "alice", "one", 0), () -> -1, id -> {
                    acked[0] = id;
                    seen.add("ack " + id);
                });
                b.post(new ChatMessage(0, "r", "bob", "two", 0), () -> -1, id -> acked[1] = id);
                RoomEvent.Posted first = (RoomEvent.Posted) take(seen);
                assertThat(first.message().text()).isEqualTo("one");
                assertThat(first.message().id()).isEqualTo(acked[0]).isGreaterThan(0);
                assertThat(seen.poll(10, TimeUnit.SECONDS)).as("the ack comes after the delivery")
                        .isEqualTo("ack " + acked[0]);
                RoomEvent.Posted second = (RoomEvent.Posted) take(seen);
                assertThat(second.message().text()).isEqualTo("two");
                assertThat(second.message().id()).isGreaterThan(first.message().id());
                assertThat(second.message().ts()).isGreaterThanOrEqualTo(first.message().ts());
                assertThat(a.droppedEvents()).as("the garbage").isEqualTo(1);

                a.publish(new RoomEvent.Left("r", "alice"));
                assertThat(take(seen)).isEqualTo(new RoomEvent.Left("r", "alice"));
                assertThat(b.presence("r", List.of())).containsExactly("bob");
            } finally {
                a.close();
                b.close();
            }
            assertThat(a.subscriberAlive()).isFalse();
            assertThat(b.subscriberAlive()).isFalse();
            try (Jedis j = redis.client()) {
                assertThat(j.clientList()).doesNotContain("conclab-chat-");
            }
            assertThatThrownBy(() -> a.nextId(() -> 0)).hasMessageContaining("closed");
        }
    }
}
