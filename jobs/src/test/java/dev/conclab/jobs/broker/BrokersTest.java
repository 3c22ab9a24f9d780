package dev.conclab.jobs.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.redis.RedisBroker;
import dev.conclab.jobs.broker.redis.RedisBrokerConfig;
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
    void redisUrlOpensARedisBrokerLazily() {
        // no server is needed to open one: the broker connects on first use
        try (Broker broker = Brokers.open("redis://127.0.0.1:6390/2?prefix=lab:run-1:")) {
            assertThat(broker).isInstanceOf(RedisBroker.class);
            RedisBrokerConfig config = ((RedisBroker) broker).config();
            assertThat(config.host()).isEqualTo("127.0.0.1");
            assertThat(config.port()).isEqualTo(6390);
            assertThat(config.database()).isEqualTo(2);
            assertThat(config.prefix()).isEqualTo("lab:run-1:");
        }
        try (Broker broker = Brokers.open("redis://localhost")) {
            assertThat(((RedisBroker) broker).config()).isEqualTo(RedisBrokerConfig.of("localhost", 6379));
        }
    }

    @Test
    void badRedisUrlsAreRejected() {
        assertThatThrownBy(() -> Brokers.open("redis://h:6379/zero")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database");
        assertThatThrownBy(() -> Brokers.open("redis://h:6379?prefx=a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown parameter 'prefx'");
        assertThatThrownBy(() -> Brokers.open("rediss://h:6379")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TLS");
    }
}
