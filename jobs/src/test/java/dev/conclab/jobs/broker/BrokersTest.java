package dev.conclab.jobs.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import dev.conclab.jobs.broker.sqlite.SqliteOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokersTest {

    @TempDir
    Path dir;

    @Test
    void sqliteUrlOpensTheFileWithDefaults() {
        Path file = dir.resolve("sub/dir/jobs.db");
        try (Broker broker = Brokers.open("sqlite:" + file)) {
            assertThat(broker).isInstanceOf(SqliteBroker.class);
            assertThat(((SqliteBroker) broker).options()).isEqualTo(SqliteOptions.DEFAULTS);
            broker.enqueue(TaskMessage.of("t1", "noop", "[]", 1));
        }
        assertThat(Files.exists(file)).as("directories and file created").isTrue();
        try (Broker again = Brokers.open("sqlite:" + file)) {
            assertThat(again.record("t1")).isPresent();
        }
    }

    @Test
    void sqliteOptionsAreParsed() {
        try (Broker broker = Brokers.open("sqlite:" + dir.resolve("full.db") + "?synchronous=full&busyTimeoutMs=250")) {
            SqliteOptions options = ((SqliteBroker) broker).options();
            assertThat(options.synchronous()).isEqualTo(SqliteOptions.Synchronous.FULL);
            assertThat(options.busyTimeout()).isEqualTo(Duration.ofMillis(250));
        }
    }

    @Test
    void inMemorySqliteIsRefusedWithTheReason() {
        for (String url : new String[] {"sqlite::memory:", "sqlite:file::memory:?cache=shared"}) {
            assertThatThrownBy(() -> Brokers.open(url)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("in-memory").hasMessageContaining("restart");
        }
    }

    @Test
    void badSqliteUrlsAreRejected() {
        assertThatThrownBy(() -> Brokers.open("sqlite:")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a file path");
        assertThatThrownBy(() -> Brokers.open("sqlite:" + dir.resolve("x.db") + "?synchronous=off"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NORMAL or FULL");
        assertThatThrownBy(() -> Brokers.open("sqlite:" + dir.resolve("x.db") + "?journal=wal"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown sqlite option 'journal'");
        assertThatThrownBy(() -> Brokers.open("sqlite:" + dir.resolve("x.db") + "?busyTimeoutMs=soon"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyTimeoutMs");
        assertThatThrownBy(() -> Brokers.open("sqlite:" + dir.resolve("x.db") + "?novalue"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name=value");
    }

    @Test
    void unknownSchemesAreRejectedListingTheKnownOnes() {
        for (String url : new String[] {"amqp://localhost:5672", "jobs.db", "", "  "}) {
            assertThatThrownBy(() -> Brokers.open(url)).as(url).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("sqlite:PATH").hasMessageContaining("redis://HOST:PORT");
        }
        assertThatThrownBy(() -> Brokers.open(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void redisIsNotBuiltOnThisBranch() {
        assertThatThrownBy(() -> Brokers.open("redis://127.0.0.1:6379"))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("not built on this branch");
    }
}
