package dev.conclab.jobs.broker.redis;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisBrokerConfigTest {

    @Test
    void aFullUrl() {
        RedisBrokerConfig c = RedisBrokerConfig.fromUrl("redis://10.0.0.5:6390/3?prefix=lab%3Arun-1%3A");
        assertThat(c.host()).isEqualTo("10.0.0.5");
        assertThat(c.port()).isEqualTo(6390);
        assertThat(c.database()).isEqualTo(3);
        assertThat(c.prefix()).isEqualTo("lab:run-1:");
        assertThat(RedisBrokerConfig.fromUrl(c.toUrl())).isEqualTo(c);
    }

    @Test
    void defaults() {
        RedisBrokerConfig c = RedisBrokerConfig.fromUrl("redis://localhost");
        assertThat(c.port()).isEqualTo(6379);
        assertThat(c.database()).isZero();
        assertThat(c.prefix()).isEqualTo(RedisBrokerConfig.DEFAULT_PREFIX);
        assertThat(RedisBrokerConfig.fromUrl("redis://localhost:7000/").database()).isZero();
    }

    @Test
    void badUrlsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("sqlite:jobs.db")).hasMessageContaining("redis://");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis:///0")).hasMessageContaining("no host");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://h:6379/zero")).hasMessageContaining("database");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://h:6379/0?pool=3")).hasMessageContaining("pool");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://h:6379/0?prefix=")).hasMessageContaining("prefix");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://user:pw@h:6379")).hasMessageContaining("credentials");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://h:70000")).hasMessageContaining("port");
        assertThatThrownBy(() -> RedisBrokerConfig.fromUrl("redis://h:6379/-1")).hasMessageContaining("database");
    }

    @Test
    void componentsAreValidated() {
        assertThatThrownBy(() -> new RedisBrokerConfig("h", 6379, 0, "p:", 1, Duration.ofSeconds(1)))
                .hasMessageContaining("maxConnections");
        assertThatThrownBy(() -> new RedisBrokerConfig("h", 6379, 0, "p:", 8, Duration.ZERO))
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> new RedisBrokerConfig("h", 6379, 0, "a b", 8, Duration.ofSeconds(1)))
                .hasMessageContaining("prefix");
    }
}
