package dev.conclab.jobs.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {

    @Test
    void defaultsFollowCelery() {
        WorkerConfig c = WorkerConfig.builder().concurrency(3).build();
        assertThat(c.prefetchMultiplier()).isEqualTo(4);
        assertThat(c.prefetchLimit()).isEqualTo(12);
        assertThat(c.visibility()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.heartbeat()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.pool()).isEqualTo(PoolKind.VTHREADS);
    }

    @Test
    void badSettingsAreRejected() {
        assertThatThrownBy(() -> WorkerConfig.builder().concurrency(0).build())
                .hasMessage("concurrency must be 1..10000, was 0");
        assertThatThrownBy(() -> WorkerConfig.builder().queues(List.of()).build())
                .hasMessageContaining("queues must be non-empty");
        assertThatThrownBy(() -> WorkerConfig.builder().pool(PoolKind.PROCESSES).build())
                .hasMessageContaining("the processes pool needs registryClass");
        assertThatThrownBy(() -> PoolKind.parse("gevent"))
                .hasMessage("unknown pool 'gevent'; expected vthreads, threads or processes");
    }
}
