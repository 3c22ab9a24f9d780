package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.RunType;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.lab.cli.CliRun.Outcome;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.jobs.DagsOverview;
import dev.conclab.lab.web.WebLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.conclab.lab.cli.CliRun.conclab;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code serve --broker URL --store FILE --dags DIR}: the options reach the jobs page's API (and DAGs known only from
 * the store are listed, marked "definition not found"); bad values are one line and exit 2, before anything starts.
 */
class ServeJobsOptionsTest {

    @Test
    void theJobsOptionsReachTheJobsApi(@TempDir Path dir) throws Exception {
        Path dags = Files.createDirectories(dir.resolve("dags"));
        Files.writeString(dags.resolve("tiny.yaml"), "dag_id: tiny\ntasks:\n  - id: only\n    task: noop\n");
        Path storeFile = dir.resolve("runs.db");
        try (DagStore store = DagStore.open(storeFile)) {
            store.createRun(run("tiny", 1_000), List.of("only"));
            store.createRun(run("gone", 2_000), List.of("b-task", "a-task"));
            store.createRun(run("older-gone", 500), List.of("x"));
        }
        Path brokerFile = dir.resolve("queue").resolve("jobs.db");
        ServeCommand serve = new ServeCommand();
        List<JsonNode> answers = new ArrayList<>();
        serve.started = web -> {
            try {
                answers.add(get(web, "api/systems/jobs/dags"));
                answers.add(get(web, "api/systems/jobs/queues"));
            } finally {
                web.close();
            }
        };
        CommandLine cli = new CommandLine(serve);
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err));

        int status = cli.execute("--port", "0", "--broker", "sqlite:" + brokerFile, "--store", storeFile.toString(),
                "--dags", dags.toString());

        assertThat(status).as(err.toString()).isZero();
        assertThat(answers).hasSize(2);
        JsonNode overview = answers.get(0);
        assertThat(overview.path("store").asText()).isEqualTo(storeFile.toString());
        List<String> ids = new ArrayList<>();
        overview.path("dags").forEach(d -> ids.add(d.path("id").asText()));
        assertThat(ids).as("the --dags folder's DAG, then the store's others, newest run first")
                .containsExactly("tiny", "gone", "older-gone");
        JsonNode tiny = overview.path("dags").get(0);
        assertThat(tiny.has("note")).isFalse();
        assertThat(tiny.path("totalRuns").asInt()).isEqualTo(1);
        JsonNode gone = overview.path("dags").get(1);
        assertThat(gone.path("note").asText()).isEqualTo(DagsOverview.DEFINITION_NOT_FOUND);
        assertThat(gone.path("schedule").isNull()).isTrue();
        assertThat(gone.path("tasks").toString()).isEqualTo("[\"a-task\",\"b-task\"]");
        assertThat(gone.path("runs").get(0).path("runId").asText()).isEqualTo("gone/manual__2");
        assertThat(answers.get(1).path("broker").asText()).isEqualTo("sqlite:" + brokerFile);
        assertThat(brokerFile.getParent()).as("a reader creates nothing").doesNotExist();
    }

    @Test
    void badJobsOptionsAreOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Path notADir = Files.writeString(dir.resolve("file.txt"), "x");
        Path badDags = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(badDags.resolve("broken.yaml"), "dag_id: broken\ntasks: 7\n");
        Map<List<String>, String> cases = Map.of(
                List.of("--dags", dir.resolve("nowhere").toString()),
                "conclab: serve: --dags " + dir.resolve("nowhere") + " is not a directory",
                List.of("--dags", notADir.toString()), "conclab: serve: --dags " + notADir + " is not a directory",
                List.of("--store", dir.toString()),
                "conclab: serve: --store " + dir + " is a directory, not a SQLite file",
                List.of("--broker", "ftp://somewhere"), "conclab: serve: --broker ftp://somewhere is not a broker URL;"
                        + " known: sqlite:PATH, redis://HOST:PORT[/DB][?prefix=P]",
                List.of("--broker", "sqlite:"), "conclab: serve: --broker sqlite: names no file; give sqlite:PATH,"
                        + " e.g. sqlite:./conclab-jobs.db",
                List.of("--broker", "sqlite:" + dir), "conclab: serve: --broker sqlite:" + dir + ": " + dir
                        + " is a directory, not a SQLite file");
        for (var c : cases.entrySet()) {
            List<String> args = new ArrayList<>(List.of("serve", "--port", "0"));
            args.addAll(c.getKey());
            Outcome outcome = conclab(args.toArray(String[]::new));
            assertThat(outcome.status()).as(c.getKey().toString()).isEqualTo(Main.USAGE);
            assertThat(outcome.err().strip()).as(c.getKey().toString()).isEqualTo(c.getValue());
            assertThat(outcome.out()).as(c.getKey().toString()).isEmpty();
        }
        for (List<String> args : List.of(List.of("--broker", "redis://"), List.of("--dags", badDags.toString()))) {
            List<String> all = new ArrayList<>(List.of("serve", "--port", "0"));
            all.addAll(args);
            Outcome outcome = conclab(all.toArray(String[]::new));
            assertThat(outcome.status()).as(args.toString()).isEqualTo(Main.USAGE);
            assertThat(outcome.err().strip()).as(args.toString()).startsWith("conclab: serve: " + args.get(0) + " ")
                    .doesNotContain("\n");
        }
    }

    private static DagRun run(String dagId, long logicalMillis) {
        return new DagRun(dagId + "/manual__" + logicalMillis / 1000, dagId, RunType.MANUAL,
                Instant.ofEpochMilli(logicalMillis), DagRunState.SUCCESS, "{}", logicalMillis, 0, 0);
    }

    private static JsonNode get(WebLab web, String path) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(web.address() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(path + ": " + answer.body()).isEqualTo(200);
            return ResultStore.JSON.readTree(answer.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
