package dev.conclab.jobs.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DagModelTest {

    @Test
    void cycleIsNamedInTheError() {
        var b = Dag.builder("loop")
                .task("a", "t").after("c").add()
                .task("b", "t").after("a").add()
                .task("c", "t").after("b").add()
                .task("d", "t").add();
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching("dag loop has a cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)");
        assertThatThrownBy(() -> Dag.builder("self").task("a", "t").after("a").add().build())
                .hasMessageContaining("cycle: a -> a");
    }

    @Test
    void unknownUpstreamDuplicateIdsAndBadLimitsAreRejected() {
        assertThatThrownBy(() -> Dag.builder("d").task("a", "t").after("zz").add().build())
                .hasMessage("dag d: task a has unknown upstream task 'zz'");
        assertThatThrownBy(() -> Dag.builder("d").task("a", "t").add().task("a", "u").add().build())
                .hasMessage("dag d: task id 'a' is used twice");
        assertThatThrownBy(() -> Dag.builder("d").task("a", "t").add().maxActiveRuns(0).build())
                .hasMessageContaining("max active runs must be 1..10000, was 0");
        assertThatThrownBy(() -> Dag.builder("d").build()).hasMessage("dag d has no tasks");
        assertThatThrownBy(() -> Dag.builder("bad id").task("a", "t").add().build())
                .hasMessageContaining("dag id 'bad id' must match");
        assertThatThrownBy(() -> Dag.builder("d").schedule("@daily").catchup(true).task("a", "t").add().build())
                .hasMessage("dag d: catchup needs a start date");
        assertThatThrownBy(() -> Dag.builder("d").task("a", "t").retries(-1, Duration.ZERO).add())
                .hasMessageContaining("retries must be 0..100");
    }

    @Test
    void tasksAreInTopologicalOrder() {
        Dag dag = Dag.builder("d")
                .task("load", "t").after("transform").add()
                .task("transform", "t").after("extract_a", "extract_b").add()
                .task("extract_a", "t").add()
                .task("extract_b", "t").add()
                .build();
        var order = dag.tasks().stream().map(DagTask::id).toList();
        assertThat(order.indexOf("transform")).isGreaterThan(order.indexOf("extract_a"))
                .isGreaterThan(order.indexOf("extract_b"));
        assertThat(order.indexOf("load")).isGreaterThan(order.indexOf("transform"));
        assertThat(dag.leaves()).containsExactly("load");
    }

    @Test
    void paramsNeedDefaultsAndPlaceholdersMustBeKnown() {
        assertThatThrownBy(() -> Dag.builder("d").task("a", "t").args("[\"{{ params.region }}\"]").add().build())
                .hasMessage("dag d: task a uses {{ params.region }} but the dag has no default for it");
        assertThatThrownBy(() -> ArgsTemplate.parse("[\"{{ yesterday }}\"]"))
                .hasMessageContaining("unknown placeholder {{ yesterday }}");
        assertThatThrownBy(() -> ArgsTemplate.parse("{\"a\": 1}")).hasMessageContaining("must be a JSON array");
        assertThatThrownBy(() -> ArgsTemplate.parse("[1,")).hasMessageContaining("not valid JSON");
    }

    @Test
    void argsRenderPerRun() {
        ArgsTemplate t = ArgsTemplate.parse(
                "[\"{{ ds }}\", \"{{params.n}}\", {\"key\": \"{{ dag_id }}/{{ ds_nodash }}/{{ params.n }}\"}, 7,"
                        + " \"try {{ try_number }} of {{ task_id }} in {{ run_id }} at {{ logical_date }}\"]");
        String out = t.render(new ArgsTemplate.Context("etl", "etl/scheduled__x", "load", 2, "2026-11-27",
                "2026-11-27T00:00:00Z", Map.of("n", JsonNodeFactory.instance.numberNode(42))));
        assertThat(out).isEqualTo("[\"2026-11-27\",42,{\"key\":\"etl/20261127/42\"},7,"
                + "\"try 2 of load in etl/scheduled__x at 2026-11-27T00:00:00Z\"]");
        assertThat(t.paramNames()).containsExactly("n");
    }
}
