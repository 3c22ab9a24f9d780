package dev.conclab.jobs.dag.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.DagTask;
import dev.conclab.jobs.dag.TriggerRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DagFileLoaderTest {

    private static final String GOOD = """
            dag_id: etl
            schedule: "0 2 * * *"
            timezone: Europe/Paris
            start_date: 2026-01-01
            catchup: true
            max_active_runs: 1
            max_active_tasks: 8
            params: {region: eu, batch: 100}
            default_args: {retries: 2, retry_delay: 30s}
            tasks:
              - id: extract
                task: etl.extract
                args: ["{{ ds }}", "{{ params.region }}"]
              - id: transform
                task: etl.transform
                upstream: extract
                execution_timeout: 10m
              - id: load
                task: etl.load
                upstream: [transform]
                retries: 0
                retry_delay: PT1M
              - id: alert
                task: etl.alert
                upstream: [extract, transform, load]
                trigger_rule: one_failed
            """;

    @Test
    void loadsAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("etl.yaml");
        Files.writeString(file, GOOD);
        Dag dag = DagFileLoader.load(file);
        assertThat(dag.id()).isEqualTo("etl");
        assertThat(dag.schedule().orElseThrow().expression()).isEqualTo("0 2 * * *");
        assertThat(dag.zone()).isEqualTo(ZoneId.of("Europe/Paris"));
        assertThat(dag.startDate()).isEqualTo(Instant.parse("2025-12-31T23:00:00Z"));
        assertThat(dag.catchup()).isTrue();
        assertThat(dag.maxActiveRuns()).isEqualTo(1);
        assertThat(dag.maxActiveTasks()).isEqualTo(8);
        assertThat(dag.defaultParams().get("batch").intValue()).isEqualTo(100);
        DagTask extract = dag.task("extract").orElseThrow();
        assertThat(extract.retries()).isEqualTo(2);
        assertThat(extract.retryDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(extract.args().paramNames()).containsExactly("region");
        assertThat(dag.task("transform").orElseThrow().executionTimeout()).isEqualTo(Duration.ofMinutes(10));
        DagTask load = dag.task("load").orElseThrow();
        assertThat(load.retries()).isZero();
        assertThat(load.retryDelay()).isEqualTo(Duration.ofMinutes(1));
        assertThat(dag.task("alert").orElseThrow().triggerRule()).isEqualTo(TriggerRule.ONE_FAILED);
        assertThat(DagFileLoader.loadAll(dir)).hasSize(1);
    }

    private static void assertError(String yaml, String field, String problemFragment) {
        Path file = Path.of("dags/broken.yaml");
        assertThatThrownBy(() -> DagFileLoader.parse(file, yaml))
                .isInstanceOfSatisfying(DagFileException.class, e -> {
                    assertThat(e.file()).isEqualTo(file);
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.problem()).contains(problemFragment);
                    assertThat(e.getMessage()).startsWith(file + ": " + field + ": ");
                });
    }

    @Test
    void unknownUpstream() {
        assertError(GOOD.replace("upstream: [transform]", "upstream: [transfrom]"), "tasks[2].upstream",
                "unknown task 'transfrom'");
    }

    @Test
    void cycle() {
        assertError(GOOD.replace("args: [\"{{ ds }}\", \"{{ params.region }}\"]", "upstream: [load]"), "tasks",
                "has a cycle: ");
    }

    @Test
    void badCron() {
        assertError(GOOD.replace("0 2 * * *", "0 25 * * *"), "schedule", "bad cron: hour field '25'");
        assertError(GOOD.replace("0 2 * * *", "every day"), "schedule", "has 2 fields; expected 5");
    }

    @Test
    void unknownTriggerRule() {
        assertError(GOOD.replace("one_failed", "any_failed"), "tasks[3].trigger_rule",
                "unknown trigger rule 'any_failed'");
    }

    @Test
    void otherMistakes() {
        assertError(GOOD.replace("catchup: true", "catch_up: true"), "catch_up", "unknown field");
        assertError(GOOD.replace("    execution_timeout: 10m", "    timeout: 10m"), "tasks[1].timeout",
                "unknown field");
        assertError(GOOD.replace("retry_delay: PT1M", "retry_delay: soon"), "tasks[2].retry_delay", "bad duration");
        assertError(GOOD.replace("max_active_runs: 1", "max_active_runs: 0"), "max_active_runs",
                "must be an integer 1..10000");
        assertError(GOOD.replace("timezone: Europe/Paris", "timezone: Mars/Olympus"), "timezone",
                "unknown time zone");
        assertError(GOOD.replace("task: etl.load", "name: etl.load"), "tasks[2].name", "unknown field");
        assertError(GOOD.replace("dag_id: etl\n", ""), "dag_id", "is required");
        assertError(GOOD.replace("{{ params.region }}", "{{ params.zone }}"), "params", "no default");
        assertThatThrownBy(() -> DagFileLoader.parse(Path.of("x.yaml"), "dag_id: x\ntasks: [\n  {id: a\n"))
                .isInstanceOfSatisfying(DagFileException.class, e -> {
                    assertThat(e.field()).matches("\\(line [34]\\)");
                    assertThat(e.problem()).startsWith("not valid YAML");
                });
    }
}
