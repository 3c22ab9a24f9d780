package dev.conclab.jobs.dag.examples;

import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.yaml.DagFileLoader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The example DAGs shipped in the jar (YAML files beside this class, over the demo tasks), used when no DAG
 * directory is given. Stateless and thread-safe; every call parses them afresh.
 */
public final class ExampleDags {

    /** The shipped files, in listing order. */
    public static final List<String> FILES = List.of("nightly_report.yaml", "hourly_sync.yaml");

    private ExampleDags() {
    }

    /** Parses every shipped example. */
    public static List<Dag> load() {
        return FILES.stream().map(ExampleDags::parse).toList();
    }

    private static Dag parse(String name) {
        try (InputStream in = ExampleDags.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("example DAG " + name + " is missing from the class path");
            }
            return DagFileLoader.parse(Path.of("examples", name), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
