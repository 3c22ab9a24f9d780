// DEV ONLY: writes lab/src/main/resources/web/dev/fixtures/*.json, the API answers dev/fixtures.js serves under
// ?fixtures=1, from the real catalog, the real experiments and the latest records in the result store
// (~/.conclab/results; run an experiment first to refresh its record, e.g. ./conclab run cpu-io-matrix --quick).
// Shapes follow the API contract of issue 12; Markdown is rendered the way the server does it (commonmark + GFM
// tables, raw HTML escaped). It lives outside src/main so that it is neither compiled with the lab nor shipped in its
// jar; run it as a source file from the root of the repository after `mvn -o -q -B -DskipTests package` (which also
// copies commonmark into lab/target/lib):
//
//   java --enable-preview --source 25 -cp "lab/target/conclab-lab.jar:lab/target/lib/*" \
//       lab/src/dev/MakeFixtures.java lab/src/main/resources/web/dev/fixtures basics-04 practical-02
//
// (java = the JDK 25 one.) The card ids after the directory choose which cards get a fixture; keep them few.

import com.fasterxml.jackson.databind.ObjectWriter;
import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.ResultStore;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    List<String> cardIds = List.of(args).subList(1, args.length);
    Files.createDirectories(out);
    Lab lab = Lab.load();
    ObjectWriter json = ResultStore.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
    var extensions = List.of(TablesExtension.create());
    Parser parser = Parser.builder().extensions(extensions).build();
    HtmlRenderer html = HtmlRenderer.builder().extensions(extensions).escapeHtml(true).build();

    List<Map<String, Object>> sections = new ArrayList<>();
    for (Section section : Section.values()) {
        List<Card> cards = lab.catalog().cards(section);
        long answered = cards.stream().filter(Card::answered).count();
        sections.add(ordered("key", section.key(), "title", section.title(), "answered", answered,
                "open", cards.size() - answered,
                "cards", cards.stream().map(c -> ordered("id", c.id(), "question", c.question(),
                        "status", c.status().word(), "experiments", c.experiments(),
                        "python", python(lab, c))).toList()));
    }
    Files.writeString(out.resolve("catalog.json"), json.writeValueAsString(ordered(
            "answered", lab.catalog().answeredCount(), "total", lab.catalog().size(), "sections", sections)));

    for (String id : cardIds) {
        Card card = lab.catalog().card(id).orElseThrow(() -> new IllegalArgumentException("no card " + id));
        List<Map<String, Object>> answer = Card.SECTIONS.stream().filter(h -> !card.section(h).isBlank())
                .map(h -> ordered("heading", h, "html", html.render(parser.parse(card.section(h))))).toList();
        Files.writeString(out.resolve("card-" + id + ".json"), json.writeValueAsString(ordered(
                "id", card.id(), "section", card.section().key(), "question", card.question(),
                "status", card.status().word(), "related", card.related(), "sections", answer,
                "experiments", card.experiments().stream().map(e -> view(lab, lab.experiment(e).orElseThrow())).toList())));
    }
    Files.writeString(out.resolve("index.json"), json.writeValueAsString(ordered("cards", cardIds)));
    Files.writeString(out.resolve("systems.json"), json.writeValueAsString(List.of(
            system("chat", "Chat", true, "A WebSocket chat in two models (virtual thread per connection on Helidon, "
                    + "an event loop on Netty), one protocol; scale-out over Redis."),
            system("jobs", "Task queue and DAG scheduler", false, "Celery-like queues with at-least-once delivery, "
                    + "retries and dead letters; Airflow-like DAG runs drawn as a Gantt chart."),
            system("crawl", "Crawler", false, "A polite concurrent crawler and its local test site; a run's progress."),
            system("etl", "File ETL", false, "Byte-range parallel parsing with checkpoints; a run's progress."))));
    System.out.println("fixtures written to " + out);
}

/** A card has a CPython side when one of its experiments declares a claim whose id starts with "py-". */
boolean python(Lab lab, Card card) {
    return card.experiments().stream().flatMap(e -> lab.experiment(e).stream())
            .anyMatch(x -> x.claims().stream().anyMatch(c -> c.id().startsWith("py-")));
}

Map<String, Object> view(Lab lab, Experiment x) {
    return ordered("id", x.id(), "title", x.title(), "description", x.description(),
            "timeoutSeconds", x.timeout(false).toSeconds(), "quickTimeoutSeconds", x.timeout(true).toSeconds(),
            "params", x.params().stream().map(this::param).toList(),
            "claims", x.claims().stream().map(c -> ordered("id", c.id(), "text", c.text())).toList(),
            "cards", lab.catalog().citing(x.id()).stream().map(Card::id).toList(),
            "latest", lab.store().latest(x.id()).orElse(null));
}

Map<String, Object> param(Param p) {
    return switch (p) {
        case Param.IntParam i -> ordered("name", i.name(), "kind", "int", "description", i.description(),
                "min", i.min(), "max", i.max(), "choices", null, "default", i.defaultValue(), "quick", i.quickValue());
        case Param.ChoiceParam c -> ordered("name", c.name(), "kind", "choice", "description", c.description(),
                "min", null, "max", null, "choices", c.choices(), "default", c.defaultValue(), "quick", c.quickValue());
    };
}

Map<String, Object> system(String key, String title, boolean available, String summary) {
    return ordered("key", key, "title", title, "available", available, "page", "#/systems/" + key,
            "summary", summary);
}

/** A map keeping the order of its keys: ordered("a", 1, "b", 2). */
Map<String, Object> ordered(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
        map.put((String) pairs[i], pairs[i + 1]);
    }
    return map;
}
