package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.jobs.dag.GanttTrace;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.cli.Main;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.experiments.Experiments;
import dev.conclab.lab.jobs.DagsOverview;
import dev.conclab.lab.jobs.JobsInspection;
import dev.conclab.lab.jobs.JobsStores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jobs system's page API over stores made by {@link JobsFixture}: a worker in this JVM runs a few demo tasks (one
 * succeeds, one is dead-lettered, one waits in a queue no worker consumes) and one run of a two-task DAG, then
 * everything is stopped and a web lab reads the stores. A second lab points at stores that do not exist.
 */
class JobsApiTest {

    private static final String WORKER = JobsFixture.WORKER;

    @TempDir
    static Path dir;

    static JobsStores stores;
    static JobsStores missing;
    static String deadId;
    static String runId;
    static List<Experiment> experiments;
    static Catalog catalog;
    static WebLab lab;
    static WebLab emptyLab;
    static Api api;
    static Api emptyApi;

    @BeforeAll
    static void makeStoresThenStartLabs() throws Exception {
        JobsFixture made = JobsFixture.make(dir, 1);
        stores = made.stores();
        deadId = made.deadId();
        runId = made.tinyRuns().getFirst();
        missing = new JobsStores("sqlite:" + dir.resolve("none").resolve("jobs.db"),
                dir.resolve("none").resolve("dags.db"), null);
        experiments = Experiments.all();
        catalog = Catalog.load(CatalogFiles.fromClasspath(),
                experiments.stream().map(Experiment::id).collect(Collectors.toSet()));
        ResultStore results = new ResultStore(dir.resolve("home"));
        lab = WebLab.start(catalog, experiments, results, "127.0.0.1", 0, 2, stores);
        emptyLab = WebLab.start(catalog, experiments, results, "127.0.0.1", 0, 2, missing);
        api = new Api(lab);
        emptyApi = new Api(emptyLab);
    }

    @AfterAll
    static void stopLabs() {
        if (api != null) {
            api.close();
            emptyApi.close();
        }
        if (lab != null) {
            lab.close();
        }
        if (emptyLab != null) {
            emptyLab.close();
        }
    }

    @Test
    void queuesShowWhatJobsInspectShows() throws Exception {
        Api.Answer answer = api.get("/api/systems/jobs/queues");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        JsonNode json = answer.json();

        assertThat(json.path("broker").asText()).isEqualTo(stores.brokerUrl());
        assertThat(json.has("hint")).as("no hint when the store exists").isFalse();
        JsonNode stats = json.path("stats");
        assertThat(stats.path("queued").path("reports").asLong()).as("waits: no worker consumes it").isEqualTo(1);
        assertThat(stats.path("queued").path("default").asLong(0)).isZero();
        assertThat(stats.path("inFlight").size()).isZero();
        assertThat(stats.path("succeeded").asLong()).as("add, and the DAG's two tasks").isEqualTo(3);
        assertThat(stats.path("failed").asLong()).isEqualTo(1);
        assertThat(stats.path("deadLetters").asLong()).isEqualTo(1);
        JsonNode dead = json.path("deadLetters");
        assertThat(dead.size()).isEqualTo(1);
        assertThat(dead.get(0).path("id").asText()).isEqualTo(deadId);
        assertThat(dead.get(0).path("name").asText()).isEqualTo("fail-always");
        assertThat(dead.get(0).path("state").asText()).isEqualTo("FAILURE");
        assertThat(dead.get(0).path("attempt").asInt()).isEqualTo(3);
        assertThat(dead.get(0).path("error").asText()).contains("fail-always fails (attempt 3)");

        JsonNode cli = ResultStore.JSON.readTree(cli("jobs", "inspect", "--json", "--broker", stores.brokerUrl(),
                "--dead-letters", "20"));
        assertThat(json).as("the same view as ./conclab jobs inspect --json").isEqualTo(cli);
        assertThat(api.get("/api/systems/jobs/queues").json()).as("reading changes nothing").isEqualTo(json);
    }

    @Test
    void theNumberOfDeadLettersIsCheckedOnTheServer() {
        assertThat(api.get("/api/systems/jobs/queues?deadLetters=0").json().path("deadLetters").size()).isZero();
        assertThat(api.get("/api/systems/jobs/queues?deadLetters=1000").status()).isEqualTo(200);
        for (String bad : List.of("-1", "1001", "ten", "1.5", "")) {
            WebApiTestBase.assertError(api.get("/api/systems/jobs/queues?deadLetters=" + bad), 400,
                    "deadLetters must be a whole number in 0..1000, got '" + bad + "'");
        }
        WebApiTestBase.assertError(api.get("/api/systems/jobs/dags?runs=201"), 400,
                "runs must be a whole number in 0..200, got '201'");
    }

    @Test
    void dagsListEveryDagWithItsRunsAsJobsRunsDoes() {
        JsonNode json = api.get("/api/systems/jobs/dags").json();

        assertThat(json.path("store").asText()).isEqualTo(stores.dagStore().toString());
        assertThat(json.has("hint")).isFalse();
        JsonNode dags = json.path("dags");
        assertThat(ids(dags, "id")).as("the files of the DAG folder, sorted").containsExactly("idle", "tiny");
        JsonNode idle = dags.get(0);
        assertThat(idle.path("totalRuns").asInt()).isZero();
        assertThat(idle.path("runs").size()).isZero();
        assertThat(idle.path("schedule").isNull()).as("trigger only").isTrue();

        JsonNode tiny = dags.get(1);
        assertThat(ids(tiny.path("tasks"), null)).containsExactly("first", "second");
        assertThat(tiny.path("totalRuns").asInt()).isEqualTo(1);
        JsonNode run = tiny.path("runs").get(0);
        assertThat(run.path("runId").asText()).isEqualTo(runId);
        assertThat(run.path("type").asText()).isEqualTo("manual");
        assertThat(run.path("state").asText()).isEqualTo("success");
        assertThat(run.path("taskStates").toString()).isEqualTo("{\"success\":2}");
        assertThat(ids(run.path("tasks"), "taskId")).as("in the DAG's order").containsExactly("first", "second");
        for (JsonNode task : run.path("tasks")) {
            assertThat(task.path("state").asText()).isEqualTo("success");
            assertThat(task.path("worker").asText()).isEqualTo(WORKER);
            assertThat(task.path("tryNumber").asInt()).isEqualTo(1);
        }
        assertThat(Instant.parse(run.path("ended").asText()))
                .isAfterOrEqualTo(Instant.parse(run.path("started").asText()));

        String cli = cli("jobs", "runs", "tiny", "--broker", stores.brokerUrl(), "--store",
                stores.dagStore().toString(), "--dags", stores.dagsDir().toString());
        assertThat(cli).as("the CLI prints the same run").contains(runId + "  success").contains("{success=2}");

        JsonNode none = api.get("/api/systems/jobs/dags?runs=0").json().path("dags").get(1);
        assertThat(none.path("runs").size()).isZero();
        assertThat(none.path("totalRuns").asInt()).isEqualTo(1);
    }

    @Test
    void aRunsTraceIsTheGanttJobsTraceWrites() throws Exception {
        Api.Answer answer = api.get("/api/systems/jobs/trace?run=" + URLEncoder.encode(runId, StandardCharsets.UTF_8));
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("application/json");
        JsonNode trace = answer.json();

        List<JsonNode> spans = new ArrayList<>();
        List<String> lanes = new ArrayList<>();
        for (JsonNode e : trace.path("traceEvents")) {
            if ("X".equals(e.path("ph").asText())) {
                spans.add(e);
            } else if ("thread_name".equals(e.path("name").asText())) {
                lanes.add(e.path("args").path("name").asText());
            }
        }
        assertThat(lanes).containsExactly(WORKER);
        assertThat(spans).extracting(e -> e.path("name").asText()).containsExactly("first", "second");
        JsonNode first = spans.get(0);
        JsonNode second = spans.get(1);
        assertThat(second.path("ts").asLong()).as("second starts after first ends")
                .isGreaterThanOrEqualTo(first.path("ts").asLong() + first.path("dur").asLong());

        Path written = dir.resolve("cli-trace.json");
        cli("jobs", "trace", runId, "--broker", stores.brokerUrl(), "--store", stores.dagStore().toString(),
                "--out", written.toString());
        assertThat(trace).as("the same as ./conclab jobs trace writes")
                .isEqualTo(ResultStore.JSON.readTree(Files.readString(written)));
        try (DagStore store = DagStore.open(stores.dagStore())) {
            DagRun run = store.run(runId).orElseThrow();
            assertThat(trace).isEqualTo(ResultStore.JSON.readTree(GanttTrace.of(run, store.tries(runId), 0)));
        }
    }

    @Test
    void anUnknownRunIsNotFoundAndAMissingOneIsABadRequest() {
        WebApiTestBase.assertError(api.get("/api/systems/jobs/trace?run=tiny%2Fmanual__nope"), 404,
                "no DAG run tiny/manual__nope in " + stores.dagStore());
        String missingRun = "give the run: /api/systems/jobs/trace?run=RUN_ID (ids as the DAG runs list them)";
        WebApiTestBase.assertError(api.get("/api/systems/jobs/trace"), 400, missingRun);
        WebApiTestBase.assertError(api.get("/api/systems/jobs/trace?run=%20"), 400, missingRun);
        WebApiTestBase.assertError(emptyApi.get("/api/systems/jobs/trace?run=" + URLEncoder.encode(runId,
                StandardCharsets.UTF_8)), 404, "no DAG run " + runId + " in " + missing.dagStore());
    }

    @Test
    void storesThatDoNotExistGiveAnEmptyViewWithAHintAndAreNotCreated() {
        JsonNode queues = emptyApi.get("/api/systems/jobs/queues").json();
        assertThat(queues.path("hint").asText()).isEqualTo(JobsInspection.START_WORKER)
                .isEqualTo("start a worker: ./conclab jobs worker");
        assertThat(queues.path("broker").asText()).isEqualTo(missing.brokerUrl());
        assertThat(queues.path("stats").path("queued").size()).isZero();
        assertThat(queues.path("stats").path("succeeded").asLong()).isZero();
        assertThat(queues.path("deadLetters").size()).isZero();

        JsonNode dags = emptyApi.get("/api/systems/jobs/dags").json();
        assertThat(dags.path("hint").asText()).isEqualTo(DagsOverview.TRIGGER_A_RUN);
        assertThat(ids(dags.path("dags"), "id")).as("the shipped examples")
                .containsExactly("nightly_report", "hourly_sync");
        dags.path("dags").forEach(d -> assertThat(d.path("totalRuns").asInt()).isZero());

        assertThat(dir.resolve("none")).as("reading created nothing").doesNotExist();
    }

    @Test
    void storesThatCannotBeReadAreUnavailableInOneLine() {
        Path notAFile = dir.resolve("dags");  // a folder where the DAG store should be
        JobsStores broken = new JobsStores("redis://127.0.0.1:1", notAFile, stores.dagsDir());
        try (WebLab down = WebLab.start(catalog, experiments, new ResultStore(dir.resolve("home")),
                "127.0.0.1", 0, 1, broken); Api downApi = new Api(down)) {
            Api.Answer queues = downApi.get("/api/systems/jobs/queues");
            assertThat(queues.status()).as(queues.body()).isEqualTo(503);
            assertThat(queues.error()).startsWith("cannot read the jobs broker redis://127.0.0.1:1: ")
                    .doesNotContain("\n");
            Api.Answer dags = downApi.get("/api/systems/jobs/dags");
            assertThat(dags.status()).as(dags.body()).isEqualTo(503);
            assertThat(dags.error()).startsWith("cannot read the DAGs or their store " + notAFile + ": ");
            Api.Answer trace = downApi.get("/api/systems/jobs/trace?run=x");
            assertThat(trace.status()).as(trace.body()).isEqualTo(503);
            assertThat(trace.error()).startsWith("cannot read the DAG store " + notAFile + ": ");
        }
    }

    @Test
    void noJobsEndpointChangesAnything() {
        for (String path : List.of("/api/systems/jobs/queues", "/api/systems/jobs/dags", "/api/systems/jobs/trace")) {
            WebApiTestBase.assertError(api.post(path, "{}"), 404, "no such endpoint: POST " + path);
            WebApiTestBase.assertError(api.delete(path), 404, "no such endpoint: DELETE " + path);
        }
        WebApiTestBase.assertError(api.get("/api/systems/jobs/submit"), 404,
                "no such endpoint: GET /api/systems/jobs/submit");
    }

    private static List<String> ids(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }

    /** Runs {@code ./conclab ARGS} in this JVM and returns what it printed; fails unless it exits 0. */
    private static synchronized String cli(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            status = Main.execute(args);
        } finally {
            System.setOut(stdout);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(printed).isZero();
        return printed;
    }
}
