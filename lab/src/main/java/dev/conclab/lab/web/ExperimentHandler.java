package dev.conclab.lab.web;

import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.ExperimentView;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import io.javalin.http.Context;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/experiments} and {@code GET /api/experiments/{id}}: experiments with their parameters (bounds,
 * default and quick values), claims, citing cards and latest stored run. Thread-safe.
 */
final class ExperimentHandler {

    private final Catalog catalog;
    private final List<Experiment> experiments;
    private final Map<String, Experiment> byId;
    private final ResultStore store;

    ExperimentHandler(Catalog catalog, List<Experiment> experiments, Map<String, Experiment> byId,
                      ResultStore store) {
        this.catalog = catalog;
        this.experiments = experiments;
        this.byId = byId;
        this.store = store;
    }

    void list(Context ctx) {
        Json.ok(ctx, experiments.stream().map(e -> ExperimentView.of(e, catalog, store)).toList());
    }

    void one(Context ctx) {
        Json.ok(ctx, ExperimentView.of(experiment(byId, ctx.pathParam("id")), catalog, store));
    }

    /** The experiment with {@code id}, or a 404 naming it. */
    static Experiment experiment(Map<String, Experiment> byId, String id) {
        Experiment experiment = byId.get(id);
        if (experiment == null) {
            throw ApiError.notFound("unknown experiment '" + Texts.clip(id) + "' (see GET /api/experiments)");
        }
        return experiment;
    }
}
