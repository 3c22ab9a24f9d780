package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.Experiment;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The catalog at a glance: how many cards are answered, and each of the ten sections with its counts and cards.
 * What {@code ./conclab list} prints and {@code GET /api/catalog} answers. Immutable.
 */
public record CatalogOverview(long answered, int total, List<SectionOverview> sections) {

    public CatalogOverview {
        sections = List.copyOf(sections);
    }

    /** One section with its answered and open counts and its cards in catalog order. */
    public record SectionOverview(String key, String title, long answered, long open, List<CardSummary> cards) {

        public SectionOverview {
            cards = List.copyOf(cards);
        }
    }

    /** The overview of {@code catalog}; {@code experiments} maps ids to the experiments that exist. */
    public static CatalogOverview of(Catalog catalog, Map<String, Experiment> experiments) {
        List<SectionOverview> sections = Arrays.stream(Section.values()).map(section -> {
            List<Card> cards = catalog.cards(section);
            long answered = cards.stream().filter(Card::answered).count();
            return new SectionOverview(section.key(), section.title(), answered, cards.size() - answered,
                    cards.stream().map(c -> CardSummary.of(c, experiments)).toList());
        }).toList();
        return new CatalogOverview(catalog.answeredCount(), catalog.size(), sections);
    }
}
