package dev.conclab.lab.web;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import io.javalin.http.Context;

import java.util.Map;

/**
 * {@code GET /api/results/{experiment}/latest}: the latest stored run of an experiment, with the machine it ran on
 * and when it started. Thread-safe.
 */
final class ResultHandler {

    private final Map<String, Experiment> experiments;
    private final ResultStore store;

    ResultHandler(Map<String, Experiment> experiments, ResultStore store) {
        this.experiments = experiments;
        this.store = store;
    }

    void latest(Context ctx) {
        Experiment experiment = ExperimentHandler.experiment(experiments, ctx.pathParam("experiment"));
        Json.ok(ctx, store.latest(experiment.id()).orElseThrow(() -> ApiError.notFound(experiment.id()
                + " has no stored result on this machine yet (run it first)")));
    }
}
