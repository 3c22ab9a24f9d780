package dev.conclab.chat.core;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.protocol.CloseCode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slow-consumer policy on its own, with a transport that never drains (its drain task "has not run yet") and
 * says whether it is backlogged: a soft limit that closes only a backlogged connection, a hard cap that closes any.
 */
class SlowConsumerPolicyTest {

    private static final int SOFT = 8;

    /** Records closes; drains nothing; backlogged when told. */
    private static final class StalledTransport implements Transport {
        volatile boolean backlogged;
        final List<CloseCode> closes = new ArrayList<>();

        @Override
        public void wake() {
        }

        @Override
        public synchronized void close(CloseCode code, String reason) {
            closes.add(code);
        }

        @Override
        public boolean backlogged() {
            return backlogged;
        }
    }

    /** A transport written before {@link Transport#backlogged()} existed: the default applies. */
    private static final class OldTransport implements Transport {
        final List<CloseCode> closes = new ArrayList<>();

        @Override
        public void wake() {
        }

        @Override
        public synchronized void close(CloseCode code, String reason) {
            closes.add(code);
        }
    }

    private final ChatHub hub = new ChatHub(ChatConfig.defaults().withOutboundLimit(SOFT).withRate(1e6, 1_000_000),
            new LocalBroadcaster(), System::currentTimeMillis);

    @Test
    void aBurstOfFourTimesTheSoftLimitIsQueuedForAClientThatIsNotBacklogged() {
        StalledTransport t = new StalledTransport();
        Session s = hub.open(t, "bob"); // welcome queued
        for (int i = 0; i < 4 * SOFT; i++) {
            assertThat(s.deliver("frame " + i)).isTrue();
        }
        assertThat(s.isOpen()).isTrue();
        assertThat(s.queued()).isEqualTo(4 * SOFT + 1);
        assertThat(t.closes).isEmpty();
        assertThat(hub.stats().slowConsumers()).isZero();

        t.backlogged = true; // now the client stops reading: the next frame over the soft limit closes it
        assertThat(s.deliver("one more")).isFalse();
        assertThat(s.isOpen()).isFalse();
        assertThat(t.closes).containsExactly(CloseCode.POLICY_VIOLATION);
        assertThat(hub.stats().slowConsumers()).isEqualTo(1);
    }

    @Test
    void underTheSoftLimitABackloggedClientIsNotClosed() {
        StalledTransport t = new StalledTransport();
        t.backlogged = true;
        Session s = hub.open(t, "bob");
        for (int i = 1; i < SOFT; i++) {
            assertThat(s.deliver("frame " + i)).isTrue();
        }
        assertThat(s.isOpen()).isTrue();
        assertThat(s.deliver("the one over")).isFalse();
        assertThat(t.closes).containsExactly(CloseCode.POLICY_VIOLATION);
    }

    @Test
    void theHardCapClosesEvenAClientThatIsNotBacklogged() {
        StalledTransport t = new StalledTransport();
        Session s = hub.open(t, "bob");
        int hard = SOFT * Session.HARD_LIMIT_FACTOR;
        for (int i = 1; i < hard; i++) {
            assertThat(s.deliver("frame " + i)).as("frame " + i).isTrue();
        }
        assertThat(s.queued()).isEqualTo(hard);
        assertThat(s.deliver("over the cap")).isFalse();
        assertThat(t.closes).containsExactly(CloseCode.POLICY_VIOLATION);
        assertThat(hub.stats().slowConsumers()).isEqualTo(1);
    }

    @Test
    void aTransportThatDoesNotSayIsClosedAtTheSoftLimitAsBefore() {
        OldTransport t = new OldTransport();
        Session s = hub.open(t, "bob");
        for (int i = 1; i < SOFT; i++) {
            assertThat(s.deliver("frame " + i)).isTrue();
        }
        assertThat(s.deliver("the one over")).isFalse();
        assertThat(t.closes).containsExactly(CloseCode.POLICY_VIOLATION);
    }
}
