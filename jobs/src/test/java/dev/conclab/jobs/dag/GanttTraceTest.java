package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.TaskTry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GanttTraceTest {

    @Test
    void oneCompleteEventPerTryInLanesByWorker() throws Exception {
        DagRun run = new DagRun("etl/manual__x", "etl", RunType.MANUAL, Instant.EPOCH, DagRunState.RUNNING, "{}",
                0, 1_000, 0);
        List<TaskTry> tries = List.of(
                new TaskTry(run.runId(), "extract", 1, "q1", TaskInstanceState.UP_FOR_RETRY, 1_000, 1_040, "w1"),
                new TaskTry(run.runId(), "extract", 2, "q2", TaskInstanceState.SUCCESS, 1_100, 1_150, "w2"),
                new TaskTry(run.runId(), "load", 1, "q3", TaskInstanceState.RUNNING, 1_200, 0, "w1"),
                new TaskTry(run.runId(), "never", 1, "q4", TaskInstanceState.QUEUED, 0, 0, null));
        JsonNode trace = new ObjectMapper().readTree(GanttTrace.of(run, tries, 1_500));

        List<JsonNode> complete = new ArrayList<>();
        List<String> lanes = new ArrayList<>();
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("ph").asText().equals("X")) {
                complete.add(e);
            } else if (e.get("name").asText().equals("thread_name")) {
                lanes.add(e.get("tid").asInt() + "=" + e.get("args").get("name").asText());
            }
        }
        assertThat(lanes).containsExactly("1=w1", "2=w2");
        assertThat(complete).hasSize(3);
        JsonNode first = complete.get(0);
        assertThat(first.get("name").asText()).isEqualTo("extract");
        assertThat(first.get("ts").asLong()).isZero();
        assertThat(first.get("dur").asLong()).isEqualTo(40_000);
        assertThat(first.get("tid").asInt()).isEqualTo(1);
        assertThat(first.get("args").get("state").asText()).isEqualTo("up_for_retry");
        assertThat(first.get("args").get("try").asInt()).isEqualTo(1);
        assertThat(complete.get(1).get("tid").asInt()).isEqualTo(2);
        assertThat(complete.get(1).get("args").get("try").asInt()).isEqualTo(2);
        JsonNode running = complete.get(2);
        assertThat(running.get("ts").asLong()).isEqualTo(200_000);
        assertThat(running.get("dur").asLong()).isEqualTo(300_000); // still running: ends at "now"
        assertThat(trace.get("traceEvents").get(0).get("args").get("name").asText())
                .isEqualTo("etl/manual__x (running)");
    }
}
