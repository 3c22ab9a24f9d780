package dev.conclab.lab.gil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.engine.Trace;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A model run drawn on the engine's {@link Trace} is Chrome Trace Event JSON with the run's spans and marks. */
class GilTraceWriterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRunBecomesChromeTraceJsonWithHoldsWaitsBlockingCallsAndDropRequests() throws Exception {
        Trace trace = new Trace();
        GilRecorder recorder = new GilRecorder();
        GilRun run = new ModelInterpreter(GilConfig.cpython().withInterval(1_000)).run(List.of(
                Script.of("cpu", new Step.ComputeUntil(() -> recorder.exited("io"), 100, 10_000_000)),
                Script.repeat("io", 5, new Step.Block(500), new Step.Spin(50))), recorder);
        GilTraceWriter.draw(run, trace, "run");

        JsonNode root = JSON.readTree(JSON.writeValueAsString(Map.of("traceEvents", trace.events())));
        List<JsonNode> events = new ArrayList<>();
        root.path("traceEvents").forEach(events::add);

        assertThat(events.stream().filter(e -> e.path("ph").asText().equals("M"))
                .map(e -> e.path("args").path("name").asText())).containsExactlyInAnyOrder("run · cpu", "run · io");
        assertThat(count(events, "X", GilTraceWriter.HOLDS)).isEqualTo(run.holds().size());
        assertThat(count(events, "X", GilTraceWriter.BLOCKED)).isEqualTo(5);
        assertThat(count(events, "X", GilTraceWriter.WAITS))
                .isEqualTo(run.events().stream().filter(GilEvent.WaitStart.class::isInstance).count());
        assertThat(count(events, "i", GilTraceWriter.REQUEST)).isEqualTo(run.dropRequests()).isPositive();
        for (JsonNode event : events) {
            if (event.path("ph").asText().equals("X")) {
                assertThat(event.path("ts").asDouble()).isNotNegative();
                assertThat(event.path("dur").asDouble()).isNotNegative();
                assertThat(event.path("tid").asInt()).isPositive();
            }
        }
    }

    private static long count(List<JsonNode> events, String phase, String name) {
        return events.stream().filter(e -> e.path("ph").asText().equals(phase)
                && e.path("name").asText().equals(name)).count();
    }
}
