package dev.conclab.jobs.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private static final Duration BASE = Duration.ofMillis(100);
    private static final Duration CAP = Duration.ofSeconds(5);

    @Test
    void theCeilingDoublesUpToTheCap() {
        assertThat(Backoff.ceilingMillis(BASE, CAP, 0)).isEqualTo(100);
        assertThat(Backoff.ceilingMillis(BASE, CAP, 1)).isEqualTo(200);
        assertThat(Backoff.ceilingMillis(BASE, CAP, 5)).isEqualTo(3200);
        assertThat(Backoff.ceilingMillis(BASE, CAP, 6)).isEqualTo(5000);
        assertThat(Backoff.ceilingMillis(BASE, CAP, 1000)).as("no overflow").isEqualTo(5000);
    }

    @Test
    void delaysAreFullJitterBelowTheCeiling() {
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long d = Backoff.delayMillis(BASE, CAP, 3);
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertThat(min).isBetween(0L, 80L); // full jitter reaches down near 0, not base
        assertThat(max).isBetween(720L, 800L);
        assertThatThrownBy(() -> Backoff.ceilingMillis(BASE, CAP, -1)).hasMessageContaining("attempt must be >= 0");
    }
}
