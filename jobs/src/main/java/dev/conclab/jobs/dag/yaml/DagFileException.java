package dev.conclab.jobs.dag.yaml;

import java.nio.file.Path;

/**
 * A DAG file that cannot be loaded. The message names the file, the field (a path like {@code tasks[2].upstream})
 * and the problem, e.g. {@code etl.yaml: tasks[2].upstream: unknown task 'lod'}.
 */
public final class DagFileException extends IllegalArgumentException {

    private final transient Path file;
    private final String field;
    private final String problem;

    public DagFileException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
        this.problem = problem;
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** The field's path in the file ({@code schedule}, {@code tasks[0].trigger_rule}, ...). */
    public String field() {
        return field;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }
}
