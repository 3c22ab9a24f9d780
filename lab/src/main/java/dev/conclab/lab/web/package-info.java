/**
 * The web lab: a Javalin server on loopback by default that serves the static front end from the classpath folder
 * {@code /web} and a JSON API over the catalog and the engine — the same data the CLI shows, from the same code
 * ({@link dev.conclab.lab.catalog.CatalogOverview}, {@link dev.conclab.lab.catalog.CatalogSearch},
 * {@link dev.conclab.lab.catalog.CardView}, {@link dev.conclab.lab.catalog.ExperimentView}, and run records written
 * by {@link dev.conclab.lab.engine.ResultStore#JSON}).
 *
 * <p>Every error the API answers is one JSON object, {@code {"error": "one line naming the problem"}}, with the
 * status that fits: 400 bad input, 403 a cross-origin or foreign-host request, 404 unknown id, 409 the experiment
 * is already running, 429 the run cap is reached, 503 the lab is shutting down.
 *
 * <p>The jobs system's page reads its stores through {@link dev.conclab.lab.jobs.JobsReader} (the same views as
 * {@code ./conclab jobs inspect}, {@code jobs runs} and {@code jobs trace}); those endpoints only read, and never
 * create a store that does not exist yet (they answer an empty view with a {@code hint}).
 *
 * <p>Safety: parameters are checked on the server against their declared bounds by the engine's own
 * {@link dev.conclab.lab.engine.ParamValues#resolve}; {@link dev.conclab.lab.web.RunManager} allows one run per
 * experiment and a global cap; the {@link dev.conclab.lab.engine.Runner} bounds every run by its experiment's
 * timeout; no endpoint takes code or commands, only an experiment id and parameter values.
 */
package dev.conclab.lab.web;
