package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.Experiment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Full-text search over the cards' questions and answers. A card matches when every word of the query occurs in
 * its question or its answer, case-insensitively and as part of a word ({@code thread} finds "threads"). Cards
 * whose question holds more of the words come first; ties keep catalog order. The answer is searched as plain
 * text: Markdown marks and link targets are dropped, so a snippet reads as prose.
 *
 * <p><b>Thread safety:</b> immutable once built (the texts are prepared in the constructor); safe to search from
 * many threads at once.
 */
public final class CatalogSearch {

    /** The longest query accepted, in characters. */
    public static final int MAX_QUERY_LENGTH = 200;

    private static final Pattern LINK = Pattern.compile("\\[([^\\]]*)]\\([^)]*\\)");
    private static final Pattern MARKS = Pattern.compile("```[a-z]*|[`*_#>|]");
    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final int BEFORE = 60;
    private static final int AFTER = 100;
    private static final int LEAD = 160;

    /** One card found, with a snippet of plain text around the first match. */
    public record Hit(Card card, String snippet, int questionWords) {
    }

    /** A card prepared for searching: its question and plain answer, as written and lowercased. */
    private record Entry(Card card, boolean python, String question, String answer, String answerLower) {
    }

    private final List<Entry> entries;

    /** Prepares {@code catalog}; {@code experiments} maps ids to experiments, for the CPython-side filter. */
    public CatalogSearch(Catalog catalog, Map<String, Experiment> experiments) {
        this.entries = catalog.cards().stream().map(card -> {
            String answer = plain(String.join("\n\n", Card.SECTIONS.stream().map(card::section).toList()));
            return new Entry(card, CardSummary.hasPythonSide(card, experiments),
                    card.question().toLowerCase(Locale.ROOT), answer, answer.toLowerCase(Locale.ROOT));
        }).toList();
    }

    /**
     * The cards matching {@code query} and the filters, best first. A blank query matches every card (the filters
     * alone then choose).
     *
     * @param status when present, only cards with this status
     * @param python when present, only cards that have (true) or lack (false) a CPython side
     * @throws IllegalArgumentException when the query is longer than {@value #MAX_QUERY_LENGTH} characters
     */
    public List<Hit> search(String query, Optional<Card.Status> status, Optional<Boolean> python) {
        String q = query == null ? "" : query.strip();
        if (q.length() > MAX_QUERY_LENGTH) {
            throw new IllegalArgumentException("the query is " + q.length() + " characters long (at most "
                    + MAX_QUERY_LENGTH + ")");
        }
        List<String> words = q.isEmpty() ? List.of()
                : Arrays.stream(SPACES.split(q.toLowerCase(Locale.ROOT))).distinct().toList();
        List<Hit> hits = new ArrayList<>();
        for (Entry e : entries) {
            if (status.isPresent() && e.card().status() != status.get()
                    || python.isPresent() && e.python() != python.get()) {
                continue;
            }
            int inQuestion = 0;
            boolean all = true;
            for (String word : words) {
                boolean q1 = e.question().contains(word);
                inQuestion += q1 ? 1 : 0;
                all &= q1 || e.answerLower().contains(word);
            }
            if (all) {
                hits.add(new Hit(e.card(), snippet(e, words), inQuestion));
            }
        }
        hits.sort(Comparator.comparingInt(Hit::questionWords).reversed()); // stable: ties keep catalog order
        return List.copyOf(hits);
    }

    /** The text around the earliest match in the answer, or the answer's beginning when only the question matched. */
    private static String snippet(Entry e, List<String> words) {
        int at = words.stream().mapToInt(e.answerLower()::indexOf).filter(i -> i >= 0).min().orElse(-1);
        String text = e.answer();
        if (at < 0) {
            return text.length() <= LEAD ? text : dropLastWord(text.substring(0, LEAD)) + " …";
        }
        int start = Math.max(0, at - BEFORE);
        int end = Math.min(text.length(), at + AFTER);
        String window = text.substring(start, end);
        if (start > 0) {
            int space = window.indexOf(' ');
            window = "… " + (space >= 0 && space < at - start ? window.substring(space + 1) : window);
        }
        return end < text.length() ? dropLastWord(window) + " …" : window;
    }

    /** {@code text} without its last, possibly cut, word. */
    private static String dropLastWord(String text) {
        int space = text.lastIndexOf(' ');
        return space > 0 ? text.substring(0, space) : text;
    }

    /** Markdown as plain prose: links become their text, marks go, whitespace collapses. */
    static String plain(String markdown) {
        String text = LINK.matcher(markdown).replaceAll("$1");
        text = MARKS.matcher(text).replaceAll("");
        return SPACES.matcher(text).replaceAll(" ").strip();
    }
}
