package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;

import java.util.List;
import java.util.Map;

/**
 * A card as a page shows it: the question, the answer's sections rendered to safe HTML (see {@link MarkdownHtml}),
 * and each experiment it cites with its parameters, claims and latest run. Immutable; a snapshot of the store at
 * the time it was made.
 *
 * @param section  the section's key, e.g. {@code basics}
 * @param status   {@code answered} or {@code open}
 * @param sections the answer's non-empty sections in {@link Card#SECTIONS} order; none for an open card
 */
public record CardView(String id, String section, String question, String status, List<String> related,
                       List<SectionHtml> sections, List<ExperimentView> experiments) {

    public CardView {
        related = List.copyOf(related);
        sections = List.copyOf(sections);
        experiments = List.copyOf(experiments);
    }

    /** One section of an answer: its heading and its HTML. */
    public record SectionHtml(String heading, String html) {
    }

    /**
     * The view of {@code card}.
     *
     * @param experiments the experiments that exist, by id; the catalog guarantees every cited one is there
     */
    public static CardView of(Card card, Catalog catalog, Map<String, Experiment> experiments, ResultStore store,
                              MarkdownHtml markdown) {
        List<SectionHtml> sections = Card.SECTIONS.stream().filter(h -> !card.section(h).isBlank())
                .map(h -> new SectionHtml(h, markdown.render(card.section(h)))).toList();
        List<ExperimentView> views = card.experiments().stream().map(experiments::get)
                .filter(e -> e != null).map(e -> ExperimentView.of(e, catalog, store)).toList();
        return new CardView(card.id(), card.section().key(), card.question(), card.status().word(), card.related(),
                sections, views);
    }
}
