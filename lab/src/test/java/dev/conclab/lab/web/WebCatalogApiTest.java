package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.CardSummary;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.ClaimResult;
import dev.conclab.lab.engine.MachineFacts;
import dev.conclab.lab.engine.Result;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.RunStatus;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** The read-only endpoints of the web lab, its static files and its request guard, over HTTP. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebCatalogApiTest extends WebApiTestBase {

    @Test
    void catalogCountsAreTheCatalogsOwn() {
        Api.Answer answer = api.get("/api/catalog");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("application/json");
        JsonNode json = answer.json();
        assertThat(json.get("answered").asLong()).isEqualTo(lab.catalog.answeredCount()).isEqualTo(104);
        assertThat(json.get("total").asInt()).isEqualTo(105);
        assertThat(json.get("sections")).hasSize(10);
        for (JsonNode section : json.get("sections")) {
            Section s = Section.byKey(section.get("key").asText()).orElseThrow();
            List<Card> cards = lab.catalog.cards(s);
            assertThat(section.get("title").asText()).isEqualTo(s.title());
            assertThat(section.get("answered").asLong()).as(s.key())
                    .isEqualTo(cards.stream().filter(Card::answered).count());
            assertThat(section.get("open").asLong()).as(s.key())
                    .isEqualTo(cards.stream().filter(c -> !c.answered()).count());
            List<String> ids = StreamSupport.stream(section.get("cards").spliterator(), false)
                    .map(c -> c.get("id").asText()).toList();
            assertThat(ids).isEqualTo(cards.stream().map(Card::id).toList());
            for (JsonNode card : section.get("cards")) {
                Card c = lab.catalog.card(card.get("id").asText()).orElseThrow();
                assertThat(card.get("status").asText()).isEqualTo(c.status().word());
                assertThat(card.get("question").asText()).isEqualTo(c.question());
                assertThat(card.get("python").asBoolean()).as(c.id())
                        .isEqualTo(CardSummary.hasPythonSide(c, lab.byId()));
            }
        }
        JsonNode basics = json.get("sections").get(0);
        assertThat(basics.get("open").asInt()).isEqualTo(1);
        // basics-04 cites cpu-io-matrix, which measures CPython too; the open basics-02 cites nothing
        assertThat(card(basics, "basics-04").get("python").asBoolean()).isTrue();
        assertThat(card(basics, "basics-02").get("python").asBoolean()).isFalse();
    }

    @Test
    void searchFindsAWordThatOnlyAnAnswerHolds() {
        Card card = lab.catalog.card("basics-04").orElseThrow();
        String word = Arrays.stream(card.section("Short answer").split("[^A-Za-z]+"))
                .filter(w -> w.length() >= 7)
                .filter(w -> lab.catalog.cards().stream()
                        .noneMatch(c -> c.question().toLowerCase(Locale.ROOT).contains(w.toLowerCase(Locale.ROOT))))
                .findFirst().orElseThrow();

        JsonNode json = api.get("/api/search?q=" + word.toUpperCase(Locale.ROOT)).json();

        assertThat(json.get("query").asText()).isEqualTo(word.toUpperCase(Locale.ROOT));
        List<String> ids = ids(json);
        assertThat(ids).as(word).contains("basics-04");
        for (JsonNode result : json.get("results")) {
            assertThat(result.get("snippet").asText().toLowerCase(Locale.ROOT)).as(result.get("id").asText())
                    .contains(word.toLowerCase(Locale.ROOT));
            assertThat(result.get("section").asText()).isEqualTo(result.get("id").asText().replaceFirst("-\\d+$", ""));
        }
    }

    @Test
    void searchRanksQuestionHitsFirst() {
        JsonNode json = api.get("/api/search?q=gil").json();

        List<Boolean> inQuestion = new ArrayList<>();
        json.get("results").forEach(r -> inQuestion.add(r.get("question").asText().toLowerCase(Locale.ROOT)
                .contains("gil")));
        assertThat(inQuestion).contains(true, false);
        assertThat(inQuestion.indexOf(false)).isGreaterThan(inQuestion.lastIndexOf(true));
        // a card matches only when every word is in it
        JsonNode both = api.get("/api/search?q=gil%20deadlock").json();
        for (JsonNode result : both.get("results")) {
            Card c = lab.catalog.card(result.get("id").asText()).orElseThrow();
            String text = (c.question() + " " + String.join(" ", c.sections().values())).toLowerCase(Locale.ROOT);
            assertThat(text).contains("gil").contains("deadlock");
        }
        assertThat(ids(both).size()).isLessThan(ids(json).size());
    }

    @Test
    void searchFiltersByStatusAndCPythonSide() {
        assertThat(ids(api.get("/api/search?status=open").json())).containsExactly("basics-02");
        assertThat(ids(api.get("/api/search?status=answered").json())).hasSize(104).doesNotContain("basics-02");
        List<String> python = ids(api.get("/api/search?python=true").json());
        List<String> noPython = ids(api.get("/api/search?python=false").json());
        assertThat(python).isNotEmpty().isEqualTo(lab.catalog.cards().stream()
                .filter(c -> CardSummary.hasPythonSide(c, lab.byId())).map(Card::id).toList());
        assertThat(noPython).isNotEmpty().doesNotContainAnyElementsOf(python).contains("basics-02");
        assertThat(python.size() + noPython.size()).isEqualTo(105);
        assertThat(ids(api.get("/api/search?q=gil&status=answered&python=true").json()))
                .isSubsetOf(python).isNotEmpty();
    }

    @Test
    void searchRefusesBadFilters() {
        assertError(api.get("/api/search?status=done"), 400, "status=done is neither answered nor open");
        assertError(api.get("/api/search?python=yes"), 400, "python=yes is neither true nor false");
        assertError(api.get("/api/search?q=" + "x".repeat(201)), 400, "q is 201 characters long (at most 200)");
    }

    @Test
    void aCardHasItsSectionsAsHtmlWithRawHtmlEscaped() {
        JsonNode json = api.get("/api/cards/basics-01").json();

        assertThat(json.get("id").asText()).isEqualTo("basics-01");
        assertThat(json.get("section").asText()).isEqualTo("basics");
        assertThat(json.get("status").asText()).isEqualTo("answered");
        assertThat(json.get("related")).isNotEmpty();
        List<String> headings = new ArrayList<>();
        json.get("sections").forEach(s -> headings.add(s.get("heading").asText()));
        assertThat(headings).isEqualTo(Card.SECTIONS);
        String shortAnswer = json.get("sections").get(0).get("html").asText();
        assertThat(shortAnswer).doesNotContain("<script>").contains("&lt;script&gt;alert(")
                .doesNotContain("javascript:").contains(">a link</a>")
                .contains("<pre><code class=\"language-python\">import threading").contains("<p>");
        List<String> experiments = new ArrayList<>();
        json.get("experiments").forEach(e -> experiments.add(e.get("id").asText()));
        assertThat(experiments).isEqualTo(lab.catalog.card("basics-01").orElseThrow().experiments())
                .contains(TestLab.STEPS);
        JsonNode open = api.get("/api/cards/basics-02").json();
        assertThat(open.get("status").asText()).isEqualTo("open");
        assertThat(open.get("sections")).isEmpty();
        assertThat(open.get("experiments")).isEmpty();
    }

    @Test
    void aCardWithAMarkdownTableGetsAnHtmlTable() {
        Card withTable = lab.catalog.cards().stream()
                .filter(c -> c.sections().values().stream().anyMatch(t -> t.lines().anyMatch(l -> l.startsWith("|"))))
                .findFirst().orElseThrow();

        String html = api.get("/api/cards/" + withTable.id()).json().get("sections").toString();

        assertThat(html).contains("<table>").contains("<th>");
    }

    @Test
    void anExperimentHasItsParamsWithBoundsItsClaimsAndCards() {
        JsonNode json = api.get("/api/experiments/" + TestLab.STEPS).json();

        assertThat(json.get("title").asText()).isEqualTo("a test experiment (test-steps)");
        assertThat(json.get("timeoutSeconds").asLong()).isEqualTo(60);
        JsonNode n = json.get("params").get(0);
        assertThat(n.get("name").asText()).isEqualTo("n");
        assertThat(n.get("kind").asText()).isEqualTo("int");
        assertThat(n.get("min").asInt()).isEqualTo(1);
        assertThat(n.get("max").asInt()).isEqualTo(10);
        assertThat(n.get("default").asInt()).isEqualTo(5);
        assertThat(n.get("quick").asInt()).isEqualTo(2);
        assertThat(n.get("choices").isNull()).isTrue();
        JsonNode mode = json.get("params").get(1);
        assertThat(mode.get("kind").asText()).isEqualTo("choice");
        assertThat(mode.get("choices")).extracting(JsonNode::asText).containsExactly("fast", "slow");
        assertThat(mode.get("default").asText()).isEqualTo("slow");
        assertThat(mode.get("min").isNull()).isTrue();
        assertThat(json.get("claims").get(0).get("id").asText()).isEqualTo("test-claim");
        assertThat(json.get("claims").get(0).get("text").asText()).isEqualTo(TestExperiments.CLAIM.text());
        assertThat(json.get("cards")).extracting(JsonNode::asText).containsExactly("basics-01");
        assertThat(json.get("latest").isNull()).isTrue();

        JsonNode real = api.get("/api/experiments/cpu-io-matrix").json();
        JsonNode requests = StreamSupport.stream(real.get("params").spliterator(), false)
                .filter(p -> p.get("name").asText().equals("requests")).findFirst().orElseThrow();
        assertThat(requests.get("min").asInt()).isEqualTo(16);
        assertThat(requests.get("max").asInt()).isEqualTo(20_000);
        assertThat(requests.get("default").asInt()).isEqualTo(256);
        assertThat(requests.get("quick").asInt()).isEqualTo(24);
        assertThat(real.get("cards")).extracting(JsonNode::asText).contains("basics-03", "basics-04");
    }

    @Test
    void experimentsListsEveryExperimentInOrder() {
        JsonNode json = api.get("/api/experiments").json();

        List<String> ids = new ArrayList<>();
        json.forEach(e -> ids.add(e.get("id").asText()));
        assertThat(ids).isEqualTo(lab.experiments.stream().map(e -> e.id()).toList());
    }

    @Test
    void latestResultIsTheStoredRecordWithWhereAndWhen() {
        assertError(api.get("/api/results/test-block-c/latest"), 404,
                "test-block-c has no stored result on this machine yet (run it first)");
        RunRecord record = new RunRecord("test-block-b", "a stored run", Map.<String, Object>of("n", 3), true,
                RunStatus.COMPLETED,
                null, Instant.parse("2026-01-02T03:04:05Z").toString(), 1.5, MachineFacts.here(),
                new Result(List.of(), List.of(), List.of(), List.of(), List.of(ClaimResult.of(TestExperiments.CLAIM,
                        new Verdict.Holds("measured")))));
        lab.store.save(record);

        JsonNode json = api.get("/api/results/test-block-b/latest").json();

        assertThat(json.get("experiment").asText()).isEqualTo("test-block-b");
        assertThat(json.get("startedAt").asText()).isEqualTo("2026-01-02T03:04:05Z");
        assertThat(json.get("machine").get("cores").asInt()).isEqualTo(MachineFacts.here().cores());
        assertThat(json.get("result").get("claims").get(0).get("verdict").get("verdict").asText())
                .isEqualTo("HOLDS");
        assertThat(api.get("/api/experiments/test-block-b").json().get("latest").get("startedAt").asText())
                .isEqualTo("2026-01-02T03:04:05Z");
    }

    @Test
    void unknownIdsAre404WithTheIdNamed() {
        assertError(api.get("/api/cards/basics-99"), 404,
                "unknown card 'basics-99' (ids look like basics-04; see GET /api/catalog)");
        assertError(api.get("/api/experiments/nope"), 404, "unknown experiment 'nope' (see GET /api/experiments)");
        assertError(api.get("/api/results/nope/latest"), 404, "unknown experiment 'nope' (see GET /api/experiments)");
        assertError(api.get("/api/runs/r-nope"), 404,
                "unknown run 'r-nope' (runs are kept until 50 newer ones have ended)");
        assertError(api.delete("/api/runs/r-nope"), 404,
                "unknown run 'r-nope' (runs are kept until 50 newer ones have ended)");
        assertError(api.get("/api/runs/r-nope/events"), 404,
                "unknown run 'r-nope' (runs are kept until 50 newer ones have ended)");
        assertError(api.get("/api/nothing-here"), 404, "no such endpoint: GET /api/nothing-here");
    }

    @Test
    void systemsListsTheFourAndWhichHaveAPage() {
        JsonNode json = api.get("/api/systems").json();

        List<String> keys = new ArrayList<>();
        json.forEach(s -> keys.add(s.get("key").asText()));
        assertThat(keys).containsExactly("chat", "jobs", "crawl", "etl");
        List<String> withPage = new ArrayList<>();
        json.forEach(s -> {
            if (s.get("available").asBoolean()) {
                withPage.add(s.get("key").asText());
            }
        });
        assertThat(withPage).as("available = the web lab has a page for it").containsExactly("chat", "jobs", "crawl", "etl");
        for (JsonNode system : json) {
            assertThat(system.get("page").asText()).isEqualTo("#/systems/" + system.get("key").asText());
            assertThat(system.get("title").asText()).isNotBlank();
            assertThat(system.get("summary").asText()).isNotBlank();
        }
    }

    @Test
    void staticFilesAreServedFromTheirRootAndCannotEscapeIt() {
        Api.Answer index = api.raw("/");
        assertThat(index.status()).isEqualTo(200);
        assertThat(index.body()).contains("<html");
        // the files a traversal would reach exist on the class path, one folder above /web
        assertThat(getClass().getResource("/catalog/questions.md")).isNotNull();
        assertThat(getClass().getResource("/simplelogger.properties")).isNotNull();
        for (String path : List.of("/../catalog/questions.md", "/%2e%2e/catalog/questions.md",
                "/..%2fcatalog%2fquestions.md", "/%2e%2e%2fsimplelogger.properties", "/web/../simplelogger.properties",
                "/..\\simplelogger.properties", "/%252e%252e/simplelogger.properties", "/./../simplelogger.properties",
                "/index.html/../../simplelogger.properties", "/%2E%2E/%2E%2E/simplelogger.properties")) {
            Api.Answer answer = api.raw(path);
            assertThat(answer.status()).as(path).isIn(400, 403, 404);
            assertThat(answer.body()).as(path).doesNotContain("simpleLogger").doesNotContain("Basics (Foundational");
        }
    }

    @Test
    void stateChangingRequestsFromAnotherOriginAreRefused() {
        Api.Answer loopbackHost = api.raw("/api/catalog");
        assertThat(loopbackHost.status()).isEqualTo(200);
        Api.Answer crossOriginRead = api.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.lab.port()
                + "/api/catalog")).header("Origin", "http://evil.example").GET());
        assertThat(crossOriginRead.status()).as("a GET from elsewhere reads, as any page can link here").isEqualTo(200);
        Api.Answer crossOrigin = api.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.lab.port()
                + "/api/runs")).header("Origin", "http://evil.example").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"experiment\": \"" + TestLab.STEPS + "\"}")));
        assertThat(crossOrigin.status()).isEqualTo(403);
        assertThat(crossOrigin.error()).startsWith("cross-origin request refused: http://evil.example is not this lab");
        Api.Answer form = api.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.lab.port()
                + "/api/runs")).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"experiment\": \"" + TestLab.STEPS + "\"}")));
        assertError(form, 415, "POST /api/runs takes a JSON body (Content-Type: application/json, not text/plain)");
        assertThat(lab.lab.runs().runningCount()).isZero();
    }

    @Test
    void aForeignHostHeaderIsRefusedOnLoopback() {
        assertThat(RequestGuard.loopback("127.0.0.1:8000")).isTrue();
        assertThat(RequestGuard.loopback("localhost")).isTrue();
        assertThat(RequestGuard.loopback("[::1]:8000")).isTrue();
        assertThat(RequestGuard.loopback("evil.example:8000")).isFalse();
        assertThat(RequestGuard.loopback("127.0.0.1.evil.example")).isFalse();
        Api.Answer answer = api.rawWithHost("/api/catalog", "evil.example:" + lab.lab.port());
        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.body()).contains("this web lab answers only requests addressed to 127.0.0.1 or localhost");
    }

    private static JsonNode card(JsonNode section, String id) {
        return StreamSupport.stream(section.get("cards").spliterator(), false)
                .filter(c -> c.get("id").asText().equals(id)).findFirst().orElseThrow();
    }

    private static List<String> ids(JsonNode search) {
        List<String> ids = new ArrayList<>();
        search.get("results").forEach(r -> ids.add(r.get("id").asText()));
        return ids;
    }
}
