package dev.conclab.lab.catalog;

import java.util.List;

/** The catalog is malformed; {@link #problems()} lists each problem, naming the file and what is wrong. */
public final class CatalogException extends RuntimeException {

    private final List<String> problems;

    public CatalogException(List<String> problems) {
        super(problems.size() + " problem(s) in the catalog:\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
