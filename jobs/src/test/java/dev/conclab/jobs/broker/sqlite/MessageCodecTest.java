package dev.conclab.jobs.broker.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.TaskMessage;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

    @Test
    void everyFieldRoundTripsWithANestedChain() {
        TaskMessage third = new TaskMessage("c", "n3", "[]", "q", 0, 0, 0, 0, null, 0, 0, "b", null, null, null, 3);
        TaskMessage second = new TaskMessage("b", "n2", "[\"x\"]", "q", 1, 0, 0, 0, null, 0, 0, "a", third, null,
                null, 2);
        TaskMessage first = new TaskMessage("a", "n\"1\u00e9", "[1,{\"k\":[2]}]", "other", 9, 123L, 2, 5, "key",
                100, 200, null, second, "chord", "of", 1_700_000_000_000L);
        assertThat(MessageCodec.decode(MessageCodec.encode(first))).isEqualTo(first);
        TaskMessage plain = TaskMessage.of("id", "noop", "[]", 7);
        assertThat(MessageCodec.decode(MessageCodec.encode(plain))).isEqualTo(plain);
    }

    @Test
    void unknownFieldsAreSkippedAndGarbageIsReported() {
        String later = "{\"id\":\"x\",\"name\":\"n\",\"argsJson\":\"[]\",\"future\":{\"a\":[1,2]},\"queue\":\"q\"}";
        assertThat(MessageCodec.decode(later).queue()).isEqualTo("q");
        assertThatThrownBy(() -> MessageCodec.decode("[1]")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not readable");
    }
}
