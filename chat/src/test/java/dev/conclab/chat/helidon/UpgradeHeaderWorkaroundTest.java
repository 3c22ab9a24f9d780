package dev.conclab.chat.helidon;

import dev.conclab.chat.ChatConfig;
import io.helidon.http.Header;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared {@code Connection: Upgrade} header of Helidon's upgrader has its value list built before a server
 * accepts connections (helidon-io/helidon#12392). The race itself is too narrow to force, so the test checks the
 * precondition that removes it: the lazily built list, reset to "not built" here, is built again by starting a
 * server.
 */
class UpgradeHeaderWorkaroundTest {

    @Test
    void startingAServerBuildsTheSharedHeadersValuesFirst() throws Exception {
        Header shared = UpgradeHeaderWorkaround.connectionUpgrade();
        Field values = lazyValues(shared);
        values.set(shared, null); // as a fresh JVM has it: built by whichever handshake reads it first

        HelidonChatServer server = HelidonChatServer.start(ChatConfig.defaults().withPort(0));
        try {
            assertThat(values.get(shared)).as("the value list, built before the first handshake")
                    .isNotNull();
            assertThat(shared.allValues()).containsExactly("Upgrade");
        } finally {
            server.close(Duration.ofSeconds(2));
        }
    }

    /** The lazily built {@code List<String> values} of Helidon's single-valued header. */
    private static Field lazyValues(Header header) throws NoSuchFieldException {
        Field f = header.getClass().getDeclaredField("values");
        f.setAccessible(true);
        return f;
    }
}
