package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.experiments.Experiments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogTest {

    private static final Set<String> EXPERIMENTS =
            Experiments.all().stream().map(Experiment::id).collect(Collectors.toSet());

    @Test
    void theShippedCatalogHoldsAllQuestionsWithTheBasicsAnswered() {
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(), EXPERIMENTS);

        assertThat(catalog.size()).isEqualTo(105);
        assertThat(catalog.cards(Section.BASICS)).hasSize(10).allMatch(Card::answered);
        assertThat(catalog.card("basics-04").orElseThrow().question())
                .isEqualTo("When should you use threads vs processes?");
        for (Section section : Section.values()) {
            assertThat(catalog.cards(section)).as(section.key()).isNotEmpty();
        }
    }

    @Test
    void everyExperimentIsCitedByAtLeastOneCard() {
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(), EXPERIMENTS);
        for (String experiment : EXPERIMENTS) {
            assertThat(catalog.citing(experiment)).as(experiment).isNotEmpty();
        }
    }

    @Test
    void everyClaimCitedByABasicsCardIsDeclaredByItsExperiment() {
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(), EXPERIMENTS);
        for (Card card : catalog.cards(Section.BASICS)) {
            String evidence = card.section("Evidence");
            for (String experiment : card.experiments()) {
                Experiment e = Experiments.byId(experiment).orElseThrow();
                boolean citesOne = e.claims().stream().anyMatch(c -> evidence.contains(c.id()));
                assertThat(citesOne).as(card.id() + " cites a claim of " + experiment).isTrue();
            }
        }
    }

    /** A claim quoted in a card ({@code `experiment › claim`: "text"}) must be that claim's declared text. */
    @Test
    void everyQuotedClaimMatchesItsDeclaration() {
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(), EXPERIMENTS);
        java.util.regex.Pattern quote = java.util.regex.Pattern.compile("`([a-z0-9-]+) › ([a-z0-9-]+)`: \"([^\"]+)\"");
        int quoted = 0;
        for (Card card : catalog.cards()) {
            var m = quote.matcher(card.section("Evidence"));
            while (m.find()) {
                quoted++;
                String experiment = m.group(1);
                String claim = m.group(2);
                assertThat(card.experiments()).as(card.id() + " cites " + experiment).contains(experiment);
                var spec = Experiments.byId(experiment).orElseThrow().claims().stream()
                        .filter(c -> c.id().equals(claim)).findFirst();
                assertThat(spec).as(card.id() + ": " + experiment + " › " + claim).isPresent();
                assertThat(m.group(3)).as(card.id() + ": " + experiment + " › " + claim).isEqualTo(spec.get().text());
            }
        }
        assertThat(quoted).isGreaterThan(20);
    }

    @Test
    void aMissingCardIsNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.remove("basics/basics-02.md");

        assertProblem(dir, cards, "basics/basics-02.md: missing (every question needs a card)");
    }

    @Test
    void aDuplicateCardIsNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("threading/basics-01.md", openCard("basics-01", "Q one?"));

        assertProblem(dir, cards, "threading/basics-01.md: card basics-01 belongs at basics/basics-01.md");
        assertProblem(dir, cards, "threading/basics-01.md: card basics-01 is also defined in basics/basics-01.md");
    }

    @Test
    void aQuestionThatIsNotVerbatimIsNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("basics/basics-01.md", openCard("basics-01", "Q one"));

        assertProblem(dir, cards, "basics/basics-01.md: question differs from questions.md (expected \"Q one?\","
                + " found \"Q one\")");
    }

    @Test
    void anUnknownExperimentOrRelatedIdIsNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("basics/basics-01.md", """
                ---
                id: basics-01
                question: "Q one?"
                status: open
                experiments: [no-such-experiment]
                related: [basics-99]
                ---
                """);

        assertProblem(dir, cards, "basics/basics-01.md: experiment 'no-such-experiment' does not exist");
        assertProblem(dir, cards, "basics/basics-01.md: related id 'basics-99' is not a question");
    }

    @Test
    void anAnsweredCardNeedsEverySectionAndAnExperiment(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("basics/basics-01.md", """
                ---
                id: basics-01
                question: "Q one?"
                status: answered
                ---
                ## Short answer
                Short.
                ## In Python
                ## In Java
                Java.
                """);

        assertProblem(dir, cards, "basics/basics-01.md: answered card has no text under '## In Python'");
        assertProblem(dir, cards, "basics/basics-01.md: answered card has no text under '## Evidence'");
        assertProblem(dir, cards,
                "basics/basics-01.md: answered card names no experiment and gives no not_measurable reason");
    }

    @Test
    void malformedFrontMatterIsNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("basics/basics-01.md", "id: basics-01\n");
        cards.put("basics/basics-02.md", "---\nid: basics-02\nquestion: \"Q two?\"\nstatus: done\ncolour: red\n---\n");
        cards.put("basics/basics-03.md", "---\nid: [basics-03\n---\n");

        assertProblem(dir, cards, "basics/basics-01.md: does not start with a '---' front matter line");
        assertProblem(dir, cards, "basics/basics-02.md: status 'done' is neither 'answered' nor 'open'");
        assertProblem(dir, cards, "basics/basics-02.md: unknown front matter key 'colour' (known: experiments, id,"
                + " not_measurable, question, related, status)");
        assertThat(problems(dir, cards)).anyMatch(p -> p.startsWith("basics/basics-03.md: front matter is not valid"
                + " YAML"));
    }

    @Test
    void unknownOrMisorderedSectionsAreNamed(@TempDir Path dir) throws IOException {
        Map<String, String> cards = validCards();
        cards.put("basics/basics-01.md", openCard("basics-01", "Q one?") + "## In Java\nx\n## Short answer\ny\n"
                + "## Trivia\nz\n");

        assertProblem(dir, cards, "basics/basics-01.md: sections are out of order (expected Short answer, In Python,"
                + " In Java, Evidence, Pitfalls, Go deeper)");
        assertProblem(dir, cards, "basics/basics-01.md: unknown section '## Trivia' (sections: Short answer,"
                + " In Python, In Java, Evidence, Pitfalls, Go deeper)");
    }

    @Test
    void aValidSmallCatalogLoads(@TempDir Path dir) throws IOException {
        Catalog catalog = Catalog.load(write(dir, validCards()), Set.of());

        assertThat(catalog.size()).isEqualTo(3);
        assertThat(catalog.answeredCount()).isZero();
    }

    private static final String QUESTIONS = """
            # Questions
            ## Basics (Foundational Concepts)
            - basics-01: Q one?
            - basics-02: Q two?
            - basics-03: Q three?
            """;

    private static Map<String, String> validCards() {
        Map<String, String> cards = new HashMap<>();
        cards.put("basics/basics-01.md", openCard("basics-01", "Q one?"));
        cards.put("basics/basics-02.md", openCard("basics-02", "Q two?"));
        cards.put("basics/basics-03.md", openCard("basics-03", "Q three?"));
        return cards;
    }

    private static String openCard(String id, String question) {
        return "---\nid: " + id + "\nquestion: \"" + question + "\"\nstatus: open\n---\n";
    }

    private static CatalogFiles write(Path dir, Map<String, String> cards) throws IOException {
        Files.writeString(dir.resolve("questions.md"), QUESTIONS);
        for (var card : cards.entrySet()) {
            Path file = dir.resolve(card.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, card.getValue());
        }
        return CatalogFiles.fromDirectory(dir);
    }

    private static java.util.List<String> problems(Path dir, Map<String, String> cards) throws IOException {
        CatalogFiles files = write(dir, cards);
        try {
            Catalog.load(files, Set.of());
        } catch (CatalogException e) {
            return e.problems();
        }
        throw new AssertionError("the catalog loaded without problems");
    }

    private static void assertProblem(Path dir, Map<String, String> cards, String problem) throws IOException {
        assertThat(problems(dir, cards)).contains(problem);
        assertThatThrownBy(() -> Catalog.load(CatalogFiles.fromDirectory(dir), Set.of()))
                .hasMessageContaining(problem);
    }
}
