package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ResultStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The run endpoints: start, follow over server-sent events, show, cancel; the bounds, the one-run-per-experiment
 * rule and the global cap. "Still running" is forced with latch-driven test experiments, never with sleeps.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebRunsApiTest extends WebApiTestBase {

    /** A real experiment of the lab that finishes in about a second in quick mode. */
    static final String FAST = "barrier-phases";

    @AfterEach
    void everyRunOfATestHasEnded() {
        assertThat(lab.lab.runs().runningCount()).isZero();
    }

    @Test
    void aRunStreamsItsProgressThenDoneWithItsRecord() {
        CountDownLatch gate = lab.steps.nextLatch();

        Api.Answer started = api.post("/api/runs",
                "{\"experiment\": \"test-steps\", \"params\": {\"n\": \"7\", \"mode\": \"slow\"}, \"quick\": true}");

        assertThat(started.status()).as(started.body()).isEqualTo(202);
        JsonNode run = started.json();
        String id = run.get("id").asText();
        assertThat(id).startsWith("r-");
        assertThat(run.get("experiment").asText()).isEqualTo("test-steps");
        assertThat(run.get("state").asText()).isEqualTo("running");
        assertThat(run.get("events").asText()).isEqualTo("/api/runs/" + id + "/events");
        JsonNode done;
        try (Api.Events events = api.events(run.get("events").asText())) {
            assertThat(events.status).isEqualTo(200);
            assertThat(events.contentType).startsWith("text/event-stream");
            Api.Event progress = events.next();
            assertThat(progress.name()).isEqualTo("progress");
            while (!progress.json().get("message").asText().equals(TestExperiments.HALFWAY)) {
                progress = events.next();
                assertThat(progress.name()).isEqualTo("progress");
            }
            assertThat(progress.json().get("fraction").asDouble()).isEqualTo(0.5);
            JsonNode halfway = api.get("/api/runs/" + id).json();
            assertThat(halfway.get("state").asText()).isEqualTo("running");
            assertThat(halfway.get("progress").get("message").asText()).isEqualTo(TestExperiments.HALFWAY);
            assertThat(halfway.get("record").isNull()).isTrue();

            gate.countDown();

            done = events.until("done").json();
            assertThat(events.next()).as("the stream ends after done").isNull();
        }
        assertThat(done.get("experiment").asText()).isEqualTo("test-steps");
        assertThat(done.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(done.get("quick").asBoolean()).isTrue();
        assertThat(done.get("params").get("n").asInt()).isEqualTo(7);
        assertThat(done.get("params").get("mode").asText()).isEqualTo("slow");
        JsonNode claim = done.get("result").get("claims").get(0);
        assertThat(claim.get("verdict").get("verdict").asText()).isEqualTo("HOLDS");
        assertThat(claim.get("verdict").get("detail").asText()).isEqualTo("n=7 mode=slow");
        JsonNode shown = api.get("/api/runs/" + id).json();
        assertThat(shown.get("state").asText()).isEqualTo("done");
        assertThat(shown.get("record")).isEqualTo(done);
        assertThat(api.get("/api/results/test-steps/latest").json()).isEqualTo(done);
        try (Api.Events late = api.events("/api/runs/" + id + "/events")) {
            assertThat(late.next().name()).as("a late client gets done at once").isEqualTo("done");
        }
    }

    @Test
    void aRealExperimentRunsQuickFromTheApiAndItsRecordIsTheClisJson() throws Exception {
        Api.Answer started = api.post("/api/runs", "{\"experiment\": \"" + FAST + "\", \"quick\": true}");
        assertThat(started.status()).as(started.body()).isEqualTo(202);

        JsonNode done;
        try (Api.Events events = api.events(started.json().get("events").asText())) {
            done = events.until("done").json();
        }

        assertThat(done.get("experiment").asText()).isEqualTo(FAST);
        assertThat(done.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(done.get("quick").asBoolean()).isTrue();
        assertThat(done.get("result").get("claims")).isNotEmpty();
        // what ./conclab run ID --json prints: the stored record through the one mapper
        String cli = ResultStore.JSON.writeValueAsString(lab.store.latest(FAST).orElseThrow());
        assertThat(done).isEqualTo(ResultStore.JSON.readTree(cli));
    }

    @Test
    void badParametersAndBodiesAre400NamingTheProblem() {
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"n\": \"11\"}}", 400,
                "parameter n=11 is out of range (allowed: 1..10)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"n\": 0}}", 400,
                "parameter n=0 is out of range (allowed: 1..10)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"nn\": \"1\"}}", 400,
                "unknown parameter 'nn' (it takes n, mode)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"n\": \"many\"}}", 400,
                "parameter n=many is not an integer (allowed: 1..10)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"n\": 2.5}}", 400,
                "parameter n=2.5 is not an integer (allowed: 1..10)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"mode\": \"medium\"}}", 400,
                "parameter mode=medium is not allowed (allowed: fast|slow)");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": {\"n\": {\"x\": 1}}}", 400,
                "parameter n must be a number or a word, not object");
        assertRefused("{\"experiment\": \"test-steps\", \"params\": [1]}", 400,
                "\"params\" must be an object of parameter names to values");
        assertRefused("{\"experiment\": \"test-steps\", \"quick\": \"yes\"}", 400, "\"quick\" must be true or false");
        assertRefused("{\"experiment\": \"test-steps\", \"command\": \"rm -rf /\"}", 400,
                "unknown field 'command' in the body (fields: experiment, params, quick)");
        assertRefused("{}", 400, "the body lacks \"experiment\": an experiment id as a string");
        assertRefused("[]", 400, "the body must be a JSON object: {\"experiment\": \"ID\", \"params\": {\"name\":"
                + " \"value\"}, \"quick\": true}");
        Api.Answer notJson = api.post("/api/runs", "experiment=test-steps");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.error()).startsWith("the body is not JSON (").doesNotContain("\n");
        assertRefused("{\"experiment\": \"no-such-experiment\"}", 404,
                "unknown experiment 'no-such-experiment' (see GET /api/experiments)");
        assertThat(lab.lab.runs().runningCount()).isZero();
    }

    @Test
    void aSecondRunOfARunningExperimentIs409() {
        CountDownLatch running = lab.blockA.nextLatch();
        String first = startOrFail("test-block-a");
        await(running);

        Api.Answer busy = api.post("/api/runs", "{\"experiment\": \"test-block-a\"}");
        assertError(busy, 409, "test-block-a is already running (run " + first + "); wait for it or cancel it");
        assertThat(busy.json().get("run").asText()).as("the run to follow instead").isEqualTo(first);
        assertThat(busy.json().get("events").asText()).isEqualTo("/api/runs/" + first + "/events");

        assertThat(cancelAndAwait(first).get("status").asText()).isEqualTo("CANCELLED");
        String again = startOrFail("test-block-a");
        cancelAndAwait(again);
    }

    @Test
    void runsPastTheCapAre429UntilOneEnds() {
        CountDownLatch a = lab.blockA.nextLatch();
        CountDownLatch b = lab.blockB.nextLatch();
        String first = startOrFail("test-block-a");
        String second = startOrFail("test-block-b");
        await(a);
        await(b);

        assertRefused("{\"experiment\": \"test-block-c\"}", 429,
                "2 runs are already running (the cap is 2); try again when one ends");

        cancelAndAwait(first);
        String third = startOrFail("test-block-c");
        cancelAndAwait(second);
        cancelAndAwait(third);
    }

    @Test
    void deleteCancelsARunAndItEndsCancelled() {
        CountDownLatch running = lab.blockA.nextLatch();
        String id = startOrFail("test-block-a");
        await(running);

        try (Api.Events events = api.events("/api/runs/" + id + "/events")) {
            assertThat(events.next().name()).isEqualTo("progress");
            Api.Answer cancelled = api.delete("/api/runs/" + id);
            assertThat(cancelled.status()).isEqualTo(202);
            assertThat(cancelled.json().get("id").asText()).isEqualTo(id);
            assertThat(cancelled.json().get("state").asText()).isEqualTo("cancelling");
            JsonNode record = events.until("done").json();
            assertThat(record.get("status").asText()).isEqualTo("CANCELLED");
            assertThat(record.get("error").asText()).isEqualTo("cancelled by the user");
            assertThat(record.get("result").get("claims").get(0).get("verdict").get("verdict").asText())
                    .isEqualTo("SKIPPED");
        }
        assertThat(api.get("/api/runs/" + id).json().get("state").asText()).isEqualTo("done");
        assertError(api.delete("/api/runs/" + id), 409, "run " + id + " has already ended; there is nothing to cancel");
    }

    @Test
    void aRunPastItsExperimentsTimeoutIsStoppedAndEndsTimedOut() {
        CountDownLatch running = lab.timesOut.nextLatch();
        String id = startOrFail("test-timeout");
        await(running);

        JsonNode record;
        try (Api.Events events = api.events("/api/runs/" + id + "/events")) {
            record = events.until("done").json();
        }

        assertThat(record.get("status").asText()).isEqualTo("TIMED_OUT");
        assertThat(record.get("error").asText()).isEqualTo("timed out after 1 s");
        assertThat(api.get("/api/experiments/test-timeout").json().get("timeoutSeconds").asInt()).isEqualTo(1);
    }

    private static String startOrFail(String experiment) {
        Api.Answer answer = api.post("/api/runs", "{\"experiment\": \"" + experiment + "\", \"quick\": true}");
        assertThat(answer.status()).as(answer.body()).isEqualTo(202);
        return answer.json().get("id").asText();
    }

    /** Cancels a run and returns its record once it has ended. */
    private static JsonNode cancelAndAwait(String id) {
        assertThat(api.delete("/api/runs/" + id).status()).isEqualTo(202);
        try (Api.Events events = api.events("/api/runs/" + id + "/events")) {
            return events.until("done").json();
        }
    }

    private static void assertRefused(String body, int status, String message) {
        assertError(api.post("/api/runs", body), status, message);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).as("the run started").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
