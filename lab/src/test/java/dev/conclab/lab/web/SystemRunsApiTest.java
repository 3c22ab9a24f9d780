package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The crawl and etl runs of the web lab: real runs of both systems to the end, the crash-and-resume of the etl
 * load, the bounds of every parameter, one run per system, the global cap shared with experiment runs,
 * cancellation (an etl run stops generating at the generator's next chunk) and clean-up (site closed, temporary
 * directory deleted, no thread left).
 *
 * <p>"Still running" is forced without timing: a crawl of 5,000 pages at 200 ms each, one at a time, needs 1,000 s,
 * far beyond the run's 120 s limit, so it is running until the test cancels it; the experiment that holds a slot
 * is the latch-driven {@code test-block-a}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SystemRunsApiTest extends WebApiTestBase {

    /** A crawl that cannot end on its own within the run's time limit (1,000 s of latency, one fetch at a time). */
    static final String ENDLESS_CRAWL = "{\"params\": {\"pages\": 5000, \"latency-ms\": 200, \"concurrency\": 1}}";
    static final String SMALL_ETL = "{\"params\": {\"size-mb\": 4, \"files\": 2, \"threads\": 2, \"range-mb\": 1}";

    @AfterEach
    void noSystemRunIsLeft() {
        assertThat(lab.lab.systemRuns().running("crawl")).isEmpty();
        assertThat(lab.lab.systemRuns().running("etl")).isEmpty();
    }

    @Test
    void aCrawlOfTheLocalSiteFetchesEveryPageAndClosesTheSite() {
        JsonNode started = start("crawl", "{\"params\": {\"pages\": 40, \"latency-ms\": 0, \"model\": \"async\"}}");
        assertThat(started.get("system").asText()).isEqualTo("crawl");
        assertThat(started.get("status").asText()).isEqualTo("RUNNING");
        String id = started.get("id").asText();
        assertThat(started.get("events").asText()).isEqualTo("/api/systems/crawl/runs/" + id + "/events");

        JsonNode done = followToDone(started);

        assertThat(done.get("status").asText()).isEqualTo("COMPLETED");
        JsonNode summary = done.get("summary");
        assertThat(summary.get("pages").asLong()).isEqualTo(40);
        assertThat(summary.get("pagesAsked").asLong()).isEqualTo(40);
        assertThat(summary.get("model").asText()).isEqualTo("async");
        assertThat(summary.get("requests").asLong()).isGreaterThanOrEqualTo(40);
        assertThat(summary.get("pagesPerSecond").asDouble()).isPositive();
        assertThat(summary.get("p50Ms").asDouble()).isPositive();
        assertThat(summary.get("p99Ms").asDouble()).isGreaterThanOrEqualTo(summary.get("p50Ms").asDouble());
        assertThat(summary.get("stopped").asBoolean()).isFalse();
        assertThat(done.get("params").get("concurrency").asInt()).isEqualTo(32);
        assertRefusesConnections(summary.get("site").asText());
        JsonNode state = api.get("/api/systems/crawl/runs/" + id).json();
        assertThat(state.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(state.get("summary").get("pages").asLong()).isEqualTo(40);
    }

    @Test
    void anEtlRunLoadsEveryWellFormedRecordAndDeletesItsDirectory() {
        JsonNode started = start("etl", SMALL_ETL + "}");
        String id = started.get("id").asText();
        JsonNode done = followToDone(started);

        assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("COMPLETED");
        JsonNode s = done.get("summary");
        assertThat(s.get("generatedRecords").asLong()).isPositive();
        assertThat(s.get("malformedRecords").asLong()).isPositive();
        // every well-formed record is loaded, or left out by the transform (cancelled and refunded orders)
        assertThat(s.get("filtered").asLong()).isPositive();
        assertThat(s.get("records").asLong() + s.get("filtered").asLong()).isEqualTo(
                s.get("generatedRecords").asLong() - s.get("malformedRecords").asLong());
        assertThat(s.get("rejects").asLong()).isEqualTo(s.get("malformedRecords").asLong());
        assertThat(s.get("groups").asInt()).isPositive();
        assertThat(s.get("ranges").asInt()).isGreaterThanOrEqualTo(4);
        assertThat(s.get("resumedRanges").asInt()).isZero();
        assertThat(s.get("crashedAfterRanges").isNull()).isTrue();
        assertThat(s.get("threads").asInt()).isEqualTo(2);
        assertThat(s.get("mbPerSecond").asDouble()).isPositive();
        assertThat(lab.lab.systemRuns().run("etl", id).orElseThrow().workDir()).doesNotExist();
    }

    @Test
    void crashAndResumeLoadsTheSameTotalsAsACleanRun() {
        JsonNode clean = followToDone(start("etl", SMALL_ETL + "}")).get("summary");
        JsonNode crashedRun = followToDone(start("etl", SMALL_ETL + ", \"crashAndResume\": true}"));

        assertThat(crashedRun.get("status").asText()).as(crashedRun.toString()).isEqualTo("COMPLETED");
        JsonNode resumed = crashedRun.get("summary");
        assertThat(resumed.get("crashedAfterRanges").asInt()).isEqualTo(1);
        assertThat(resumed.get("resumedRanges").asInt()).isEqualTo(1);
        assertThat(resumed.get("scannedRanges").asInt()).isEqualTo(clean.get("ranges").asInt() - 1);
        for (String total : new String[] {"ranges", "lines", "records", "filtered", "rejects", "groups",
                "generatedRecords"}) {
            assertThat(resumed.get(total).asLong()).as(total).isEqualTo(clean.get(total).asLong());
        }
    }

    @Test
    void everyBoundIsCheckedOnTheServer() {
        refused("crawl", "{\"params\": {\"pages\": 9}}", "parameter pages=9 is out of range (allowed: 10…5000)");
        refused("crawl", "{\"params\": {\"pages\": 5001}}", "parameter pages=5001 is out of range (allowed: 10…5000)");
        refused("crawl", "{\"params\": {\"latency-ms\": 201}}",
                "parameter latency-ms=201 is out of range (allowed: 0…200)");
        refused("crawl", "{\"params\": {\"error-rate\": 0.51}}",
                "parameter error-rate=0.51 is out of range (allowed: 0.0…0.5)");
        refused("crawl", "{\"params\": {\"error-rate\": \"much\"}}",
                "parameter error-rate=much is not a number (allowed: a number 0.0…0.5)");
        refused("crawl", "{\"params\": {\"concurrency\": 0}}",
                "parameter concurrency=0 is out of range (allowed: 1…256)");
        refused("crawl", "{\"params\": {\"concurrency\": 257}}",
                "parameter concurrency=257 is out of range (allowed: 1…256)");
        refused("crawl", "{\"params\": {\"per-host-rate\": -1}}",
                "parameter per-host-rate=-1 is out of range (allowed: 0.0…1000.0)");
        refused("crawl", "{\"params\": {\"per-host-rate\": 1000.5}}",
                "parameter per-host-rate=1000.5 is out of range (allowed: 0.0…1000.0)");
        refused("crawl", "{\"params\": {\"model\": \"fibers\"}}",
                "parameter model=fibers is not one of platform, virtual, async");
        refused("crawl", "{\"params\": {\"pages\": 12.5}}",
                "parameter pages=12.5 is not a whole number (allowed: a whole number 10…5000)");
        refused("crawl", "{\"params\": {\"pages\": [1]}}", "parameter pages must be a number or a word, not array");
        int maxThreads = Runtime.getRuntime().availableProcessors() * 2;
        refused("etl", "{\"params\": {\"size-mb\": 0}}", "parameter size-mb=0 is out of range (allowed: 1…256)");
        refused("etl", "{\"params\": {\"size-mb\": 257}}", "parameter size-mb=257 is out of range (allowed: 1…256)");
        refused("etl", "{\"params\": {\"files\": 17}}", "parameter files=17 is out of range (allowed: 1…16)");
        refused("etl", "{\"params\": {\"files\": 0}}", "parameter files=0 is out of range (allowed: 1…16)");
        refused("etl", "{\"params\": {\"threads\": " + (maxThreads + 1) + "}}", "parameter threads="
                + (maxThreads + 1) + " is out of range (allowed: 1…" + maxThreads + ")");
        refused("etl", "{\"params\": {\"threads\": 0}}",
                "parameter threads=0 is out of range (allowed: 1…" + maxThreads + ")");
        refused("etl", "{\"params\": {\"format\": \"xml\"}}", "parameter format=xml is not one of csv, jsonl");
        refused("etl", "{\"params\": {\"range-mb\": 65}}", "parameter range-mb=65 is out of range (allowed: 1…64)");
        refused("etl", "{\"params\": {\"range-mb\": 0}}", "parameter range-mb=0 is out of range (allowed: 1…64)");
        refused("etl", "{\"params\": {\"input\": \"/etc\"}}",
                "unknown parameter 'input' for etl (parameters: size-mb, files, threads, format, range-mb)");
        refused("etl", "{\"params\": {}, \"output\": \"/tmp/x\"}",
                "unknown field 'output' in the body (fields: params, crashAndResume)");
        refused("crawl", "{\"params\": {}, \"url\": \"http://example.com/\"}",
                "unknown field 'url' in the body (fields: params)");
        refused("crawl", "{\"params\": {}, \"crashAndResume\": true}",
                "unknown field 'crashAndResume' in the body (fields: params)");
        refused("etl", "{\"crashAndResume\": \"yes\"}", "\"crashAndResume\" must be true or false");
        refused("etl", "{\"params\": [1]}", "\"params\" must be an object of parameter names to values");
        refused("etl", "[]", "the body must be a JSON object: {\"params\": {\"name\": value}, \"crashAndResume\": true}");
        Api.Answer notJson = api.post("/api/systems/crawl/runs", "{pages: 3");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.error()).startsWith("the body is not JSON (");
    }

    @Test
    void theSystemShowsItsBoundsAndDefaults() {
        JsonNode crawl = api.get("/api/systems/crawl").json();
        assertThat(crawl.get("available").asBoolean()).isTrue();
        assertThat(crawl.get("runs").asText()).isEqualTo("/api/systems/crawl/runs");
        assertThat(crawl.get("timeoutSeconds").asLong()).isEqualTo(120);
        JsonNode pages = crawl.get("params").get(0);
        assertThat(pages.get("name").asText()).isEqualTo("pages");
        assertThat(pages.get("kind").asText()).isEqualTo("int");
        assertThat(pages.get("min").asInt()).isEqualTo(10);
        assertThat(pages.get("max").asInt()).isEqualTo(5000);
        assertThat(crawl.get("params").get(5).get("choices").toString()).isEqualTo("[\"platform\",\"virtual\",\"async\"]");
        assertThat(crawl.get("running").isNull()).isTrue();
        JsonNode etl = api.get("/api/systems/etl").json();
        assertThat(etl.get("switches").toString()).isEqualTo("[\"crashAndResume\"]");
        assertThat(etl.get("params").get(2).get("max").asInt())
                .isEqualTo(Runtime.getRuntime().availableProcessors() * 2);
        JsonNode chat = api.get("/api/systems/chat").json();
        assertThat(chat.get("params")).isEmpty();
        assertThat(chat.get("runs").isNull()).isTrue();
        for (JsonNode system : api.get("/api/systems").json()) {
            assertThat(system.get("available").asBoolean()).as(system.toString()).isTrue();
        }
    }

    @Test
    void unknownSystemsAndRunsAre404() {
        assertError(api.get("/api/systems/mail"), 404, "unknown system 'mail' (systems: chat, jobs, crawl, etl)");
        assertError(api.post("/api/systems/chat/runs", "{}"), 404, "system 'chat' has no runs (runs: crawl, etl)");
        assertError(api.get("/api/systems/crawl/runs/s-0-zzzz"), 404,
                "unknown crawl run 's-0-zzzz' (runs are kept until 20 newer ones have ended)");
        assertError(api.delete("/api/systems/etl/runs/s-0-zzzz"), 404,
                "unknown etl run 's-0-zzzz' (runs are kept until 20 newer ones have ended)");
        assertThat(api.get("/api/systems/etl/runs/s-0-zzzz/events").status()).isEqualTo(404);
    }

    @Test
    void oneRunPerSystemAndCancelEndsItCancelledWithTheSiteClosed() {
        JsonNode first = start("crawl", ENDLESS_CRAWL);
        String id = first.get("id").asText();
        try (Api.Events events = api.events(first.get("events").asText())) {
            awaitPhase(events, "crawling"); // the site is up and the crawl has started

            Api.Answer second = api.post("/api/systems/crawl/runs", "{\"params\": {}}");
            assertThat(second.status()).isEqualTo(409);
            assertThat(second.error()).isEqualTo("crawl is already running (run " + id
                    + "); wait for it or cancel it");
            assertThat(second.json().get("events").asText()).isEqualTo(first.get("events").asText());
            assertThat(api.get("/api/systems/crawl").json().get("running").get("id").asText()).isEqualTo(id);

            assertThat(api.delete("/api/systems/crawl/runs/" + id).status()).isEqualTo(202);
            JsonNode done = events.until("done").json();
            assertThat(done.get("status").asText()).isEqualTo("CANCELLED");
            assertThat(done.get("summary").get("stopped").asBoolean()).isTrue();
            assertThat(done.get("summary").get("pages").asLong()).isLessThan(5000);
            assertRefusesConnections(done.get("summary").get("site").asText());
        }
        assertError(api.delete("/api/systems/crawl/runs/" + id), 409,
                "run " + id + " has already ended; there is nothing to cancel");
    }

    @Test
    void aCancelledEtlRunDeletesItsDirectory() {
        JsonNode started = start("etl", "{\"params\": {\"size-mb\": 256, \"files\": 1, \"threads\": 1}}");
        String id = started.get("id").asText();
        try (Api.Events events = api.events(started.get("events").asText())) {
            awaitPhase(events, "generating");
            Path dir = lab.lab.systemRuns().run("etl", id).orElseThrow().workDir();
            assertThat(dir).isDirectory();
            assertThat(api.delete("/api/systems/etl/runs/" + id).status()).isEqualTo(202);
            JsonNode done = events.until("done").json();
            assertThat(done.get("status").asText()).isEqualTo("CANCELLED");
            assertThat(dir).doesNotExist();
        }
    }

    /**
     * A cancel during generation stops the generator at its next chunk: the run is held in the generator's callback
     * after its first chunk of 256 MiB until the cancel's interrupt reaches it, and then no other chunk is written.
     */
    @Test
    void anEtlRunCancelledDuringGenerationStopsAtTheNextChunk() throws Exception {
        CountDownLatch firstChunk = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Long> chunks = new CopyOnWriteArrayList<>();
        EtlSystemJob etl = new EtlSystemJob(2, written -> {
            chunks.add(written);
            if (chunks.size() == 1) {
                firstChunk.countDown();
                try {
                    release.await(); // until the cancel interrupts the run's thread
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // for the generator's own check
                }
            }
        });
        Map<String, Object> values = new LinkedHashMap<>();
        etl.params().forEach(p -> values.put(p.name(), p.defaultValue()));
        values.putAll(Map.of("size-mb", 256, "files", 1));
        RunSlots slots = new RunSlots(1);
        try (SystemRuns runs = new SystemRuns(List.of(etl), slots, SystemRuns.TIMEOUT)) {
            SystemRun run = runs.start(etl, values, Set.of());
            try {
                assertThat(firstChunk.await(30, TimeUnit.SECONDS)).as("the first chunk was written").isTrue();
                Path dir = run.workDir();
                assertThat(dir.resolve("input")).isDirectoryContaining(p -> p.toString().endsWith(".csv"));

                run.stop(SystemRun.Status.CANCELLED); // what DELETE /api/systems/etl/runs/{id} does

                SystemRunView done = run.finished().get(30, TimeUnit.SECONDS);
                assertThat(done.status()).isEqualTo("CANCELLED");
                assertThat(done.summary()).isNull();
                assertThat(chunks).as("chunks written (of 256)").hasSize(1);
                assertThat(dir).doesNotExist();
                assertThat(slots.taken()).isZero();
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void systemRunsAndExperimentRunsShareTheCap(@TempDir Path home) {
        try (TestLab one = new TestLab(home, 1); Api client = new Api(one.lab)) {
            CountDownLatch blocking = one.blockA.nextLatch();
            Api.Answer experiment = client.post("/api/runs", "{\"experiment\": \"test-block-a\"}");
            assertThat(experiment.status()).as(experiment.body()).isEqualTo(202);
            await(blocking);
            assertError(client.post("/api/systems/crawl/runs", ENDLESS_CRAWL), 429,
                    "1 runs are already running (the cap is 1); try again when one ends");
            String runId = experiment.json().get("id").asText();
            client.delete("/api/runs/" + runId);
            try (Api.Events events = client.events("/api/runs/" + runId + "/events")) {
                events.until("done");
            }

            Api.Answer crawl = client.post("/api/systems/crawl/runs", ENDLESS_CRAWL);
            assertThat(crawl.status()).as(crawl.body()).isEqualTo(202);
            assertError(client.post("/api/systems/etl/runs", "{}"), 429,
                    "1 runs are already running (the cap is 1); try again when one ends");
            assertError(client.post("/api/runs", "{\"experiment\": \"test-block-b\"}"), 429,
                    "1 runs are already running (the cap is 1); try again when one ends");
            try (Api.Events events = client.events(crawl.json().get("events").asText())) {
                awaitPhase(events, "crawling");
                one.lab.close(); // closing the lab cancels the system run and closes its site
                JsonNode done = events.until("done").json();
                assertThat(done.get("status").asText()).isEqualTo("CANCELLED");
                assertRefusesConnections(done.get("summary").get("site").asText());
            }
            assertThat(Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(n -> n.startsWith("conclab-system") || n.startsWith("crawl-")
                            || n.startsWith("conclab-etl")).toList()).isEmpty();
        }
    }

    @Test
    void aRunPastItsTimeLimitEndsTimedOutWithTheSiteClosed() throws Exception {
        CrawlSystemJob crawl = new CrawlSystemJob();
        Map<String, Object> values = new LinkedHashMap<>();
        crawl.params().forEach(p -> values.put(p.name(), p.defaultValue()));
        values.putAll(Map.of("pages", 5000, "latency-ms", 200, "concurrency", 1)); // 1,000 s of work
        RunSlots slots = new RunSlots(1);
        try (SystemRuns runs = new SystemRuns(List.of(crawl), slots, Duration.ofMillis(300))) {
            SystemRun run = runs.start(crawl, values, Set.of());
            SystemRunView done = run.finished().get(30, TimeUnit.SECONDS);
            assertThat(done.status()).isEqualTo("TIMED_OUT");
            assertThat(((CrawlSystemJob.Summary) done.summary()).stopped()).isTrue();
            assertRefusesConnections(((CrawlSystemJob.Summary) done.summary()).site());
            assertThat(slots.taken()).isZero();
            assertThat(runs.running("crawl")).isEmpty();
        }
    }

    private static JsonNode start(String system, String body) {
        Api.Answer answer = api.post("/api/systems/" + system + "/runs", body);
        assertThat(answer.status()).as(answer.body()).isEqualTo(202);
        return answer.json();
    }

    /** Follows a run's events to its {@code done} event, checking the progress events on the way. */
    private static JsonNode followToDone(JsonNode started) {
        try (Api.Events events = api.events(started.get("events").asText())) {
            assertThat(events.status).isEqualTo(200);
            assertThat(events.contentType).startsWith("text/event-stream");
            for (Api.Event e = events.next(); e != null; e = events.next()) {
                switch (e.name()) {
                    case "progress" -> assertThat(e.json().has("phase")).as(e.data()).isTrue();
                    case "done" -> {
                        return e.json();
                    }
                    default -> throw new AssertionError("unexpected event " + e);
                }
            }
            throw new AssertionError("the stream ended without a done event");
        }
    }

    /** Reads progress events until one of {@code phase} (the first events may still say "starting"). */
    private static void awaitPhase(Api.Events events, String phase) {
        Api.Event progress = events.until("progress");
        while (!progress.json().path("phase").asText().equals(phase)) {
            progress = events.until("progress");
        }
    }

    private static void refused(String system, String body, String message) {
        assertError(api.post("/api/systems/" + system + "/runs", body), 400, message);
    }

    private static void assertRefusesConnections(String address) {
        URI uri = URI.create(address);
        assertThat(uri.getHost()).isEqualTo("127.0.0.1");
        assertThatThrownBy(() -> {
            try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
                socket.getInputStream();
            }
        }).isInstanceOf(ConnectException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).as("the experiment started").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
