package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.lab.cli.CliRun.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.conclab.lab.cli.CliRun.conclab;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code conclab jobs ...} against a broker file of its own, with a worker running in this JVM where needed. */
class JobsCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String brokerUrl;
    private Broker workerBroker;
    private Worker worker;

    @BeforeEach
    void setUp() {
        brokerUrl = "sqlite:" + dir.resolve("jobs.db");
    }

    @AfterEach
    void tearDown() {
        if (worker != null) {
            worker.shutdown(Duration.ofSeconds(5));
            workerBroker.close();
        }
    }

    private void startWorker() {
        workerBroker = Brokers.open(brokerUrl);
        worker = new Worker(workerBroker, DemoTasks.REGISTRY, WorkerConfig.builder().concurrency(4)
                .registryClass(DemoTasks.class.getName()).build()).start();
    }

    private Outcome jobs(String... args) {
        List<String> all = new ArrayList<>(List.of("jobs"));
        all.addAll(List.of(args));
        if (!List.of(args).contains("--help") && !List.of(args).contains("--broker")) {
            all.add(1 + (args.length > 0 ? 1 : 0), "--broker=" + brokerUrl);
        }
        return conclab(all.toArray(String[]::new));
    }

    @Test
    void submitStatusAndWaitForAResult() throws Exception {
        Outcome queued = jobs("submit", "add", "2", "3");
        assertThat(queued.status()).isZero();
        String id = queued.out().strip();
        JsonNode pending = JSON.readTree(jobs("status", id).out());
        assertThat(pending.path("state").asText()).isEqualTo("PENDING");

        startWorker();
        Outcome done = jobs("submit", "add", "40", "2", "--wait", "20");
        assertThat(done.status()).as(done.err()).isZero();
        JsonNode record = JSON.readTree(done.out());
        assertThat(record.path("state").asText()).isEqualTo("SUCCESS");
        assertThat(record.path("resultJson").asText()).isEqualTo("42");
    }

    @Test
    void anIdempotencyKeyGivesBackTheFirstTasksId() {
        String first = jobs("submit", "noop", "--key", "nightly-1").out().strip();
        String second = jobs("submit", "noop", "--key", "nightly-1").out().strip();
        assertThat(second).isEqualTo(first);
    }

    @Test
    void inspectListsTheDeadLetterOfAPoisonTask() throws Exception {
        startWorker();
        Outcome failed = jobs("submit", "fail-always", "--wait", "30");
        assertThat(failed.status()).isEqualTo(1);
        assertThat(JSON.readTree(failed.out()).path("state").asText()).isEqualTo("FAILURE");
        Outcome inspect = jobs("inspect");
        assertThat(inspect.status()).isZero();
        assertThat(inspect.out()).contains("dead letters: 1").contains("fail-always [] after attempt 3");
        JsonNode asJson = JSON.readTree(jobs("inspect", "--json").out());
        assertThat(asJson.path("stats").path("deadLetters").asLong()).isEqualTo(1);
    }

    @Test
    void purgeRemovesQueuedTasksAndRevokeNamesWhatItCannotRevoke() throws Exception {
        String id = jobs("submit", "sleep", "10").out().strip();
        jobs("submit", "sleep", "10");
        assertThat(jobs("purge").out()).contains("purged 2 task(s) from queue default");
        assertThat(JSON.readTree(jobs("status", id).out()).path("state").asText()).isEqualTo("REVOKED");
        assertUsage(jobs("revoke", id), "conclab: jobs revoke: task " + id + " is unknown or already finished");
    }

    @Test
    void badInputGetsOneLineNamingTheProblemAndStatusTwo() {
        assertUsage(jobs("submit", "nope"), "conclab: jobs submit: unknown task 'nope'; registered: [add, cpu,"
                + " echo, fail-always, fail-then-succeed, noop, sleep]");
        assertUsage(jobs("submit", "add", "1"), "conclab: jobs submit: task 'add' expects 2 argument(s), got 1");
        assertUsage(jobs("submit", "add", "1", "\"x\""),
                "conclab: jobs submit: task 'add' argument 1: expected integer, got string \"x\"");
        assertUsage(jobs("submit", "add", "[1", "2"), "conclab: jobs submit: argument 1 ([1) is not a JSON value;"
                + " a string needs quotes, e.g. '\"text\"'");
        assertUsage(jobs("submit", "add", "1", "2", "--priority", "12"),
                "conclab: jobs submit: priority must be 0..9, was 12");
        assertUsage(jobs("status", "no-such-id"), "conclab: jobs status: no task no-such-id on " + brokerUrl);
        assertUsage(conclab("jobs", "inspect", "--broker", "amqp://localhost"), "conclab: jobs inspect: cannot open"
                + " broker amqp://localhost: unknown broker URL scheme amqp in amqp://localhost; known: [sqlite:PATH,"
                + " redis://HOST:PORT[/DB][?prefix=P]]");
        assertUsage(jobs("worker", "--pool", "fibers"), "conclab: jobs worker: unknown pool 'fibers'; expected"
                + " vthreads, threads or processes");
        assertUsage(jobs("backfill", "nightly_report", "--from", "yesterday", "--to", "2026-01-02"),
                "conclab: jobs backfill: --from must be a date (2026-01-31) or an instant (2026-01-31T00:00:00Z),"
                        + " got yesterday");
        Outcome unknownDag = jobs("trigger", "no_such_dag", "--store", dir.resolve("dags.db").toString());
        assertThat(unknownDag.status()).isEqualTo(2);
        assertThat(unknownDag.err().strip()).startsWith("conclab: jobs trigger: unknown dag 'no_such_dag' (known: ")
                .contains("nightly_report").contains("hourly_sync").doesNotContain("\n");
    }

    @Test
    void aTriggeredDagRunsToTheEndAndItsTraceIsChromeTraceJson() throws Exception {
        startWorker();
        String store = dir.resolve("dags.db").toString();
        Outcome run = jobs("trigger", "nightly_report", "--store", store, "-p", "work_ms=20", "--wait", "60");
        assertThat(run.status()).as(run.out() + run.err()).isZero();
        String runId = run.out().lines().findFirst().orElseThrow();
        assertThat(run.out()).contains(runId + "  success").contains("success=7");

        Outcome runs = jobs("runs", "nightly_report", "--store", store);
        assertThat(runs.out()).contains(runId + "  success");

        Path trace = dir.resolve("run.json");
        assertThat(jobs("trace", runId, "--store", store, "--out", trace.toString()).status()).isZero();
        JsonNode events = JSON.readTree(Files.readString(trace)).path("traceEvents");
        long bars = 0;
        for (JsonNode e : events) {
            if ("X".equals(e.path("ph").asText())) {
                bars++;
            }
        }
        assertThat(bars).as("one bar per task try").isEqualTo(7);
    }

    @Test
    void dagsListsTheShippedExamples() {
        Outcome dags = jobs("dags");
        assertThat(dags.status()).isZero();
        assertThat(dags.out()).contains("nightly_report  schedule").contains("hourly_sync  schedule")
                .contains("load           sleep  after [transform_a, transform_b, transform_c, transform_d]");
    }

    @Test
    void everyJobsCommandAnswersHelp() {
        for (String command : List.of("worker", "submit", "status", "inspect", "purge", "revoke", "dags",
                "scheduler", "trigger", "runs", "backfill", "trace")) {
            Outcome outcome = conclab("jobs", command, "--help");
            assertThat(outcome.status()).as(command).isZero();
            assertThat(outcome.out()).as(command).startsWith("Usage: conclab jobs " + command + " ");
        }
    }

    private static void assertUsage(Outcome outcome, String line) {
        assertThat(outcome.status()).as(line).isEqualTo(2);
        assertThat(outcome.err().strip()).isEqualTo(line);
    }
}
