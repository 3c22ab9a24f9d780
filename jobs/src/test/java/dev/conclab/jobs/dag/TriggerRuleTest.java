package dev.conclab.jobs.dag;

import static dev.conclab.jobs.dag.TriggerRule.Decision.RUN;
import static dev.conclab.jobs.dag.TriggerRule.Decision.SKIP;
import static dev.conclab.jobs.dag.TriggerRule.Decision.UPSTREAM_FAILED;
import static dev.conclab.jobs.dag.TriggerRule.Decision.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TriggerRuleTest {

    // decide(upstream, succeeded, failed, skipped)

    @Test
    void allSuccess() {
        assertThat(TriggerRule.ALL_SUCCESS.decide(2, 1, 0, 0)).isEqualTo(WAIT);
        assertThat(TriggerRule.ALL_SUCCESS.decide(2, 2, 0, 0)).isEqualTo(RUN);
        assertThat(TriggerRule.ALL_SUCCESS.decide(3, 0, 1, 0)).isEqualTo(UPSTREAM_FAILED); // does not wait
        assertThat(TriggerRule.ALL_SUCCESS.decide(2, 1, 0, 1)).isEqualTo(SKIP);
    }

    @Test
    void allDone() {
        assertThat(TriggerRule.ALL_DONE.decide(3, 1, 1, 0)).isEqualTo(WAIT);
        assertThat(TriggerRule.ALL_DONE.decide(3, 1, 1, 1)).isEqualTo(RUN);
        assertThat(TriggerRule.ALL_DONE.decide(2, 0, 2, 0)).isEqualTo(RUN);
    }

    @Test
    void oneFailed() {
        assertThat(TriggerRule.ONE_FAILED.decide(3, 0, 1, 0)).isEqualTo(RUN); // does not wait for the rest
        assertThat(TriggerRule.ONE_FAILED.decide(3, 2, 0, 0)).isEqualTo(WAIT);
        assertThat(TriggerRule.ONE_FAILED.decide(3, 2, 0, 1)).isEqualTo(SKIP);
    }

    @Test
    void theOtherRules() {
        assertThat(TriggerRule.ALL_FAILED.decide(2, 0, 2, 0)).isEqualTo(RUN);
        assertThat(TriggerRule.ALL_FAILED.decide(2, 1, 0, 0)).isEqualTo(SKIP);
        assertThat(TriggerRule.ONE_SUCCESS.decide(3, 1, 0, 0)).isEqualTo(RUN);
        assertThat(TriggerRule.ONE_SUCCESS.decide(2, 0, 1, 1)).isEqualTo(UPSTREAM_FAILED);
        assertThat(TriggerRule.NONE_FAILED.decide(2, 1, 0, 1)).isEqualTo(RUN);
        assertThat(TriggerRule.NONE_FAILED.decide(2, 1, 1, 0)).isEqualTo(UPSTREAM_FAILED);
        for (TriggerRule rule : TriggerRule.values()) {
            assertThat(rule.decide(0, 0, 0, 0)).as(rule.name()).isEqualTo(RUN);
        }
    }

    @Test
    void airflowNames() {
        assertThat(TriggerRule.parse("one_failed")).isEqualTo(TriggerRule.ONE_FAILED);
        assertThat(TriggerRule.parse("ALL_DONE")).isEqualTo(TriggerRule.ALL_DONE);
        assertThat(TriggerRule.ALL_SUCCESS.airflowName()).isEqualTo("all_success");
        assertThatThrownBy(() -> TriggerRule.parse("any_success"))
                .hasMessage("unknown trigger rule 'any_success' (known: all_success, all_failed, all_done, "
                        + "one_success, one_failed, none_failed)");
    }
}
