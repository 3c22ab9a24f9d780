package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import dev.conclab.lab.engine.RunRecord;

import java.util.List;

/**
 * An experiment as a reader sees it: what it measures, its parameters with their bounds, its claims, the cards
 * that cite it and its latest stored run (with where and when it was measured). Immutable; a snapshot of the
 * store at the time it was made.
 *
 * @param timeoutSeconds      how long a full run may take before the runner stops it
 * @param quickTimeoutSeconds how long a quick run may take
 * @param latest              the latest stored run, or {@code null} when none was stored
 */
public record ExperimentView(String id, String title, String description, long timeoutSeconds,
                             long quickTimeoutSeconds, List<ParamView> params, List<ClaimSpec> claims,
                             List<String> cards, RunRecord latest) {

    public ExperimentView {
        params = List.copyOf(params);
        claims = List.copyOf(claims);
        cards = List.copyOf(cards);
    }

    /** The view of {@code experiment}: the cards of {@code catalog} citing it, its latest run in {@code store}. */
    public static ExperimentView of(Experiment experiment, Catalog catalog, ResultStore store) {
        return new ExperimentView(experiment.id(), experiment.title(), experiment.description(),
                experiment.timeout(false).toSeconds(), experiment.timeout(true).toSeconds(),
                experiment.params().stream().map(ParamView::of).toList(), experiment.claims(),
                catalog.citing(experiment.id()).stream().map(Card::id).toList(),
                store.latest(experiment.id()).orElse(null));
    }
}
