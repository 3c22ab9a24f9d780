package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.experiments.Experiments;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CardSummary#hasPythonSide}: the "has a CPython side" badge and filter. Checked on cards whose experiments
 * were read by hand, and for every experiment against its source: it has a CPython side exactly when its class
 * runs a probe (through the probe runner, directly or through a helper class of the experiments, not itself an
 * experiment, that does).
 */
class CardSummaryPythonTest {

    private static final Path EXPERIMENTS_SOURCE = Path.of("src/main/java/dev/conclab/lab/experiments");
    private static final Pattern RUNS_A_PROBE = Pattern.compile("\\b(PythonProbes|ProbeProcess|InterpreterFinder)\\b");

    static Map<String, Experiment> byId;
    static Catalog catalog;

    @BeforeAll
    static void load() {
        byId = new LinkedHashMap<>();
        Experiments.all().forEach(e -> byId.put(e.id(), e));
        catalog = Catalog.load(CatalogFiles.fromClasspath(), byId.keySet());
    }

    /**
     * Read by hand: basics-02's gil-cpu-threads runs probes/gil_cpu.py (pure Python and hashlib threads) with no
     * {@code py-} claim; multiprocessing-10's debug-multiprocessing runs probes/debug_mp.py; design-03's api-handlers
     * runs its CPython servers through ApiHandlersPython; basics-01 (concurrency-vs-parallelism) and basics-07
     * (io-models) measure the JVM only.
     */
    @Test
    void cardsReadByHand() {
        Map<String, Boolean> expected = Map.of("basics-02", true, "multiprocessing-10", true, "design-03", true,
                "basics-01", false, "basics-07", false);
        expected.forEach((id, python) -> assertThat(CardSummary.of(card(id), byId).python()).as(id)
                .isEqualTo(python));
        assertThat(byId.get("gil-cpu-threads").claims()).as("why a py- claim id alone is not the rule")
                .extracting(ClaimSpec::id).noneMatch(c -> c.startsWith(CardSummary.PYTHON_CLAIM_PREFIX));
    }

    @Test
    void everyExperimentHasACpythonSideExactlyWhenItsSourceRunsAProbe() throws IOException {
        Set<String> probeRunners;
        try (Stream<Path> files = Files.walk(EXPERIMENTS_SOURCE)) {
            probeRunners = files.filter(f -> f.toString().endsWith(".java")).filter(f -> RUNS_A_PROBE
                    .matcher(read(f)).find()).map(f -> f.getFileName().toString().replace(".java", ""))
                    .collect(Collectors.toCollection(HashSet::new));
        }
        probeRunners.removeAll(byId.values().stream().map(e -> sourceOf(e).getFileName().toString()
                .replace(".java", "")).toList()); // the helpers only: calling an experiment's utility runs no probe
        assertThat(probeRunners).isNotEmpty();
        Pattern usesARunner = Pattern.compile("\\b(" + String.join("|", probeRunners) + ")\\b");
        assertThat(byId).hasSizeGreaterThan(80);
        List<String> runsCpython = byId.values().stream().filter(e -> {
            String source = read(sourceOf(e));
            return RUNS_A_PROBE.matcher(source).find() || usesARunner.matcher(source).find();
        }).map(Experiment::id).toList();
        List<String> marked = byId.values().stream().filter(CardSummary::hasPythonSide).map(Experiment::id).toList();

        assertThat(marked).isEqualTo(runsCpython);
        assertThat(runsCpython).contains("gil-cpu-threads", "debug-multiprocessing", "api-handlers")
                .doesNotContain("concurrency-vs-parallelism", "io-models");
    }

    private static Card card(String id) {
        return catalog.card(id).orElseThrow(() -> new AssertionError("no card " + id));
    }

    private static Path sourceOf(Experiment e) {
        String name = e.getClass().getName();
        int nested = name.indexOf('$');
        String top = nested < 0 ? name : name.substring(0, nested);
        return Path.of("src/main/java", top.replace('.', '/') + ".java");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
