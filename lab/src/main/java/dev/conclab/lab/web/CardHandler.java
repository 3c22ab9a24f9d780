package dev.conclab.lab.web;

import dev.conclab.lab.catalog.CardView;
import dev.conclab.lab.catalog.Catalog;
import dev.conclab.lab.catalog.MarkdownHtml;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ResultStore;
import io.javalin.http.Context;

import java.util.Map;

/**
 * {@code GET /api/cards/{id}}: a card with its answer as HTML and its experiments with their latest runs. Reads the
 * store on every request, so a run that just ended shows. Thread-safe.
 */
final class CardHandler {

    private final Catalog catalog;
    private final Map<String, Experiment> experiments;
    private final ResultStore store;
    private final MarkdownHtml markdown = new MarkdownHtml();

    CardHandler(Catalog catalog, Map<String, Experiment> experiments, ResultStore store) {
        this.catalog = catalog;
        this.experiments = experiments;
        this.store = store;
    }

    void card(Context ctx) {
        String id = ctx.pathParam("id");
        var card = catalog.card(id).orElseThrow(() -> ApiError.notFound("unknown card '" + Texts.clip(id)
                + "' (ids look like basics-04; see GET /api/catalog)"));
        Json.ok(ctx, CardView.of(card, catalog, experiments, store, markdown));
    }
}
