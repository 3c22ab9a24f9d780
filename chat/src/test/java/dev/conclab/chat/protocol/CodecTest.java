package dev.conclab.chat.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CodecTest {

    private final Codec codec = new Codec(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void parsesEveryClientMessage() throws Exception {
        assertThat(codec.parse("{\"type\":\"hello\",\"name\":\"al\"}")).isEqualTo(new Inbound.Hello("al", null));
        assertThat(codec.parse("{\"type\":\"join\",\"room\":\"r\",\"ref\":\"1\"}")).isEqualTo(new Inbound.Join("r", "1"));
        assertThat(codec.parse("{\"type\":\"leave\",\"room\":\"r\"}")).isEqualTo(new Inbound.Leave("r", null));
        assertThat(codec.parse("{\"type\":\"send\",\"room\":\"r\",\"text\":\"hi\",\"ref\":\"x\"}"))
                .isEqualTo(new Inbound.Send("r", "hi", "x"));
        assertThat(codec.parse("{\"type\":\"dm\",\"to\":\"bo\",\"text\":\"hi\"}")).isEqualTo(new Inbound.Dm("bo", "hi", null));
        assertThat(codec.parse("{\"type\":\"who\",\"room\":\"r\"}")).isEqualTo(new Inbound.Who("r", null));
        assertThat(codec.parse("{\"type\":\"history\",\"room\":\"r\"}")).isEqualTo(new Inbound.History("r", null));
    }

    @Test
    void namesTheProblemOfEachBadMessage() {
        assertProblem("", Problem.NOT_AN_OBJECT);
        assertProblem("{", Problem.INVALID_JSON);
        assertProblem("\"text\"", Problem.NOT_AN_OBJECT);
        assertProblem("{}", Problem.MISSING_FIELD);
        assertProblem("{\"type\":null}", Problem.MISSING_FIELD);
        assertProblem("{\"type\":7}", Problem.INVALID_FIELD);
        assertProblem("{\"type\":\"fly\"}", Problem.UNKNOWN_TYPE);
        assertProblem("{\"type\":\"send\",\"room\":\"r\"}", Problem.MISSING_FIELD);
        assertProblem("{\"type\":\"send\",\"room\":\"r\",\"text\":\"12345678901\"}", Problem.INVALID_FIELD);
        assertProblem("{\"type\":\"join\",\"room\":\"" + "r".repeat(33) + "\"}", Problem.INVALID_FIELD);
        assertProblem("{\"type\":\"join\",\"room\":\"a/b\"}", Problem.INVALID_FIELD);
        assertProblem("{\"type\":\"join\",\"room\":\"r\",\"ref\":5}", Problem.INVALID_FIELD);
    }

    @Test
    void theRefOfABadMessageIsKeptWhenReadable() {
        assertThatThrownBy(() -> codec.parse("{\"type\":\"fly\",\"ref\":\"q\"}"))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.ref()).isEqualTo("q"));
    }

    @Test
    void encodesServerMessagesAsOneJsonObject() throws Exception {
        ChatMessage m = new ChatMessage(7, "r", "al", "he said \"hi\"\n", 1_700_000_000_000L);
        JsonNode message = JSON.readTree(codec.message(m));
        assertThat(message.path("type").asText()).isEqualTo("message");
        assertThat(message.path("id").asLong()).isEqualTo(7);
        assertThat(message.path("text").asText()).isEqualTo("he said \"hi\"\n");
        JsonNode history = JSON.readTree(codec.history("r", List.of(m, m), "h"));
        assertThat(history.path("messages")).hasSize(2);
        assertThat(history.path("ref").asText()).isEqualTo("h");
        JsonNode ack = JSON.readTree(codec.ack(null, 3));
        assertThat(ack.has("ref")).isFalse();
        assertThat(JSON.readTree(codec.error(Problem.RATE_LIMITED, "slow down", "z")).path("code").asText())
                .isEqualTo("rate-limited");
    }

    private void assertProblem(String text, Problem problem) {
        assertThatThrownBy(() -> codec.parse(text)).as(text).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.problem()).isEqualTo(problem));
    }
}
