package dev.conclab.lab.web;

import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.experiments.Experiments;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The shipped catalog with two cards changed for the tests, the lab's experiments plus latch-driven test ones,
 * and a web lab over them on a free port (of loopback unless told otherwise) with a result store in a temporary
 * folder.
 *
 * <p>Changes: {@code basics-01} cites the test experiment {@value #STEPS} and its short answer opens with a
 * {@code <script>} tag, a {@code javascript:} link and a fenced Python block; {@code basics-02} is open (no
 * answer, no experiment).
 */
final class TestLab implements AutoCloseable {

    static final String STEPS = "test-steps";
    static final String SCRIPT = "<script>alert('owned')</script>";
    static final String SCRIPT_LINK = "[a link](javascript:alert(1))";

    final TestExperiments.Steps steps = new TestExperiments.Steps(STEPS);
    final TestExperiments.Blocking blockA = new TestExperiments.Blocking("test-block-a", Duration.ofSeconds(60));
    final TestExperiments.Blocking blockB = new TestExperiments.Blocking("test-block-b", Duration.ofSeconds(60));
    final TestExperiments.Blocking blockC = new TestExperiments.Blocking("test-block-c", Duration.ofSeconds(60));
    final TestExperiments.Blocking timesOut = new TestExperiments.Blocking("test-timeout", Duration.ofSeconds(1));
    final List<Experiment> experiments;
    final Catalog catalog;
    final ResultStore store;
    final WebLab lab;

    /** Starts a lab on 127.0.0.1 with a cap of {@code maxRuns} concurrent runs. */
    TestLab(Path home, int maxRuns) {
        this(home, maxRuns, "127.0.0.1");
    }

    /** Starts a lab on {@code host} (a free port) with a cap of {@code maxRuns} concurrent runs. */
    TestLab(Path home, int maxRuns, String host) {
        experiments = new ArrayList<>(Experiments.all());
        experiments.addAll(List.of(steps, blockA, blockB, blockC, timesOut));
        catalog = catalog(experiments);
        store = new ResultStore(home);
        lab = WebLab.start(catalog, experiments, store, host, 0, maxRuns);
    }

    Map<String, Experiment> byId() {
        return experiments.stream().collect(Collectors.toMap(Experiment::id, e -> e));
    }

    static Catalog catalog(List<Experiment> experiments) {
        CatalogFiles shipped = CatalogFiles.fromClasspath();
        Map<String, String> cards = new HashMap<>(shipped.cards());
        String first = cards.get("basics/basics-01.md");
        first = first.replaceFirst("experiments: \\[", "experiments: [" + STEPS + ", ")
                .replaceFirst("## Short answer\n", "## Short answer\n" + SCRIPT + "\n\n" + SCRIPT_LINK
                        + "\n\n```python\nimport threading\n```\n\n");
        cards.put("basics/basics-01.md", first);
        String second = cards.get("basics/basics-02.md");
        String front = second.substring(0, second.indexOf("\n---\n") + 5);
        cards.put("basics/basics-02.md", front.replace("status: answered", "status: open")
                .replaceFirst("experiments: \\[[^]]*]", "experiments: []"));
        return Catalog.load(new CatalogFiles(shipped.questions(), cards),
                experiments.stream().map(Experiment::id).collect(Collectors.toSet()));
    }

    @Override
    public void close() {
        lab.close();
    }
}
