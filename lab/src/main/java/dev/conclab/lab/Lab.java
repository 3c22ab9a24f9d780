package dev.conclab.lab;

import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.CatalogFiles;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.experiments.Experiments;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The lab as every face sees it: the validated catalog, the experiments, the store of latest results and the
 * runner that writes to it. One instance per process; immutable apart from the store's files.
 */
public record Lab(Catalog catalog, List<Experiment> experiments, ResultStore store, Runner runner) {

    /** Loads the shipped catalog and the lab's experiments, with results under the default home. */
    public static Lab load() {
        ResultStore store = ResultStore.atDefaultHome();
        Catalog catalog = Catalog.load(CatalogFiles.fromClasspath(),
                Experiments.all().stream().map(Experiment::id).collect(Collectors.toSet()));
        return new Lab(catalog, Experiments.all(), store, new Runner(Optional.of(store)));
    }

    public Optional<Experiment> experiment(String id) {
        return Experiments.byId(id);
    }
}
