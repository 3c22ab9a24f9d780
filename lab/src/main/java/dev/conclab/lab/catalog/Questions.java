package dev.conclab.lab.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the list of questions from the text of {@code questions.md}: {@code ## Section} headings and
 * {@code - id: question} lines. */
public final class Questions {

    private static final Pattern QUESTION = Pattern.compile("^- ([a-z]+-\\d{2}): (.+)$");

    private Questions() {
    }

    public static List<Question> parse(String markdown) {
        List<Question> questions = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Optional<Section> section = Optional.empty();
        for (String line : markdown.split("\\R")) {
            if (line.startsWith("## ")) {
                String title = line.substring(3).strip();
                section = Section.byTitle(title);
                if (section.isEmpty()) {
                    problems.add("questions.md: unknown section heading '" + title + "'");
                }
                continue;
            }
            Matcher m = QUESTION.matcher(line.strip());
            if (m.matches()) {
                String id = m.group(1);
                if (section.isEmpty() || Section.ofId(id).orElse(null) != section.get()) {
                    problems.add("questions.md: " + id + " stands outside its section");
                    continue;
                }
                questions.add(new Question(id, section.get(), m.group(2).strip()));
            }
        }
        if (!problems.isEmpty()) {
            throw new CatalogException(problems);
        }
        return List.copyOf(questions);
    }
}
