package dev.conclab.lab.catalog;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The validated set of cards, one per question, in the order of {@code questions.md}. Immutable once loaded.
 *
 * <p>Loading checks the whole catalog and reports every problem at once, each naming its file: every question
 * has exactly one card, in the folder of its section and named after its id; the card's question is the
 * question's text verbatim; every experiment a card names exists; every related id exists; an answered card has
 * all six sections filled and at least one experiment, or says in {@code not_measurable} why it has none.
 */
public final class Catalog {

    private final List<Question> questions;
    private final Map<String, Card> cards;

    private Catalog(List<Question> questions, Map<String, Card> cards) {
        this.questions = questions;
        this.cards = cards;
    }

    /**
     * Loads and validates the catalog in {@code files}.
     *
     * @param experiments the ids of the experiments that exist
     * @throws CatalogException listing every problem found
     */
    public static Catalog load(CatalogFiles files, Set<String> experiments) {
        List<Question> questions = Questions.parse(files.questions());
        Map<String, Question> byId = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Question q : questions) {
            if (byId.putIfAbsent(q.id(), q) != null) {
                problems.add("questions.md: " + q.id() + " is listed twice");
            }
        }
        Map<String, Card> cards = new LinkedHashMap<>();
        for (Map.Entry<String, String> file : files.cards().entrySet()) {
            String source = file.getKey();
            Card card = CardParser.parse(source, file.getValue(), problems);
            if (card == null) {
                continue;
            }
            String expectedPath = card.section().key() + "/" + card.id() + ".md";
            if (!source.equals(expectedPath)) {
                problems.add(source + ": card " + card.id() + " belongs at " + expectedPath);
            }
            Card earlier = cards.putIfAbsent(card.id(), card);
            if (earlier != null) {
                problems.add(source + ": card " + card.id() + " is also defined in " + earlier.source());
            }
            Question question = byId.get(card.id());
            if (question == null) {
                problems.add(source + ": id " + card.id() + " is not a question of questions.md");
            } else if (!question.text().equals(card.question())) {
                problems.add(source + ": question differs from questions.md (expected \"" + question.text()
                        + "\", found \"" + card.question() + "\")");
            }
            checkReferences(card, byId.keySet(), experiments, problems);
            checkAnswer(card, problems);
        }
        for (Question q : questions) {
            if (!cards.containsKey(q.id())) {
                problems.add(q.section().key() + "/" + q.id() + ".md: missing (every question needs a card)");
            }
        }
        if (!problems.isEmpty()) {
            throw new CatalogException(problems);
        }
        Map<String, Card> ordered = new LinkedHashMap<>();
        questions.forEach(q -> ordered.put(q.id(), cards.get(q.id())));
        return new Catalog(List.copyOf(questions), ordered);
    }

    private static void checkReferences(Card card, Set<String> ids, Set<String> experiments, List<String> problems) {
        for (String experiment : card.experiments()) {
            if (!experiments.contains(experiment)) {
                problems.add(card.source() + ": experiment '" + experiment + "' does not exist");
            }
        }
        for (String related : card.related()) {
            if (!ids.contains(related)) {
                problems.add(card.source() + ": related id '" + related + "' is not a question");
            } else if (related.equals(card.id())) {
                problems.add(card.source() + ": a card cannot be related to itself");
            }
        }
    }

    private static void checkAnswer(Card card, List<String> problems) {
        if (!card.answered()) {
            return;
        }
        for (String heading : Card.SECTIONS) {
            if (card.section(heading).isBlank()) {
                problems.add(card.source() + ": answered card has no text under '## " + heading + "'");
            }
        }
        if (card.experiments().isEmpty() && (card.notMeasurable() == null || card.notMeasurable().isBlank())) {
            problems.add(card.source() + ": answered card names no experiment and gives no not_measurable reason");
        }
    }

    public List<Card> cards() {
        return List.copyOf(cards.values());
    }

    public Optional<Card> card(String id) {
        return Optional.ofNullable(cards.get(id));
    }

    public List<Card> cards(Section section) {
        return cards.values().stream().filter(c -> c.section() == section).toList();
    }

    public long answeredCount() {
        return cards.values().stream().filter(Card::answered).count();
    }

    public int size() {
        return cards.size();
    }

    /** The cards that cite {@code experiment}, in catalog order. */
    public List<Card> citing(String experiment) {
        return cards.values().stream().filter(c -> c.experiments().contains(experiment)).toList();
    }
}
