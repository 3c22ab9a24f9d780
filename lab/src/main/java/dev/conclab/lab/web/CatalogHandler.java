package dev.conclab.lab.web;

import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.CatalogOverview;
import dev.conclab.lab.catalog.CatalogSearch;
import io.javalin.http.Context;

import java.util.List;
import java.util.Optional;

/**
 * {@code GET /api/catalog} (the sections with their counts and cards) and {@code GET /api/search} (the cards
 * matching words and filters, question hits first). Stateless past construction; thread-safe.
 */
final class CatalogHandler {

    /** One card found. */
    record Result(String id, String question, String section, String status, String snippet) {
    }

    /** The answer to a search. */
    record Results(String query, List<Result> results) {
    }

    private final CatalogOverview overview;
    private final CatalogSearch search;

    CatalogHandler(CatalogOverview overview, CatalogSearch search) {
        this.overview = overview;
        this.search = search;
    }

    void catalog(Context ctx) {
        Json.ok(ctx, overview);
    }

    void search(Context ctx) {
        String query = Optional.ofNullable(ctx.queryParam("q")).orElse("");
        if (query.strip().length() > CatalogSearch.MAX_QUERY_LENGTH) {
            throw ApiError.badRequest("q is " + query.strip().length() + " characters long (at most "
                    + CatalogSearch.MAX_QUERY_LENGTH + ")");
        }
        Optional<Card.Status> status = Optional.ofNullable(ctx.queryParam("status")).filter(s -> !s.isEmpty())
                .map(s -> switch (s) {
                    case "answered" -> Card.Status.ANSWERED;
                    case "open" -> Card.Status.OPEN;
                    default -> throw ApiError.badRequest("status=" + Texts.clip(s) + " is neither answered nor open");
                });
        Optional<Boolean> python = Optional.ofNullable(ctx.queryParam("python")).filter(s -> !s.isEmpty())
                .map(s -> switch (s) {
                    case "true" -> true;
                    case "false" -> false;
                    default -> throw ApiError.badRequest("python=" + Texts.clip(s) + " is neither true nor false");
                });
        List<Result> results = search.search(query, status, python).stream()
                .map(h -> new Result(h.card().id(), h.card().question(), h.card().section().key(),
                        h.card().status().word(), h.snippet()))
                .toList();
        Json.ok(ctx, new Results(query, results));
    }
}
