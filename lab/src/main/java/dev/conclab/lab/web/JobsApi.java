package dev.conclab.lab.web;

import dev.conclab.lab.jobs.JobsReader;
import io.javalin.http.Context;

import java.util.function.Supplier;

/**
 * The jobs system's page, read only: {@code GET /api/systems/jobs/queues} (what {@code ./conclab jobs inspect}
 * shows), {@code GET /api/systems/jobs/dags} (the DAGs with their newest runs, as {@code jobs runs} lists them) and
 * {@code GET /api/systems/jobs/trace?run=RUN_ID} (the run's Gantt chart as Chrome Trace Event JSON, exactly as
 * {@code jobs trace} writes it). Nothing here starts, submits, schedules or changes anything, and a store that does
 * not exist yet is not created: the answer is an empty view with a {@code hint}.
 *
 * <p>Thread-safe: every request opens the store it reads and closes it ({@link JobsReader}); it blocks its virtual
 * thread for a few bounded reads.
 */
final class JobsApi {

    static final int MAX_DEAD_LETTERS = 1000;
    static final int DEFAULT_DEAD_LETTERS = 20;
    static final int MAX_RUNS = 200;
    static final int DEFAULT_RUNS = 20;

    private final JobsReader reader;

    JobsApi(JobsReader reader) {
        this.reader = reader;
    }

    /** {@code ?deadLetters=N} (0..1000, default 20). */
    void queues(Context ctx) {
        int deadLetters = count(ctx, "deadLetters", DEFAULT_DEAD_LETTERS, 0, MAX_DEAD_LETTERS);
        Json.ok(ctx, read("the jobs broker " + reader.stores().brokerUrl(), () -> reader.inspect(deadLetters)));
    }

    /** {@code ?runs=N} runs per DAG, newest first (0..200, default 20). */
    void dags(Context ctx) {
        int runs = count(ctx, "runs", DEFAULT_RUNS, 0, MAX_RUNS);
        Json.ok(ctx, read("the DAGs or their store " + reader.stores().dagStore(), () -> reader.dags(runs)));
    }

    /** {@code ?run=RUN_ID}: run ids hold a {@code /}, so the id is a query parameter, not a path segment. */
    void trace(Context ctx) {
        String runId = ctx.queryParam("run");
        if (runId == null || runId.isBlank()) {
            throw ApiError.badRequest("give the run: /api/systems/jobs/trace?run=RUN_ID (ids as the DAG runs list"
                    + " them)");
        }
        String trace = read("the DAG store " + reader.stores().dagStore(),
                () -> reader.trace(runId, System.currentTimeMillis())).orElse(null);
        if (trace == null) {
            throw ApiError.notFound("no DAG run " + Texts.clip(runId) + " in " + reader.stores().dagStore());
        }
        ctx.status(200).contentType("application/json; charset=utf-8").result(trace);
    }

    private static int count(Context ctx, String name, int fallback, int min, int max) {
        String text = ctx.queryParam(name);
        if (text == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(text.strip());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // the same answer as out of range
        }
        throw ApiError.badRequest(name + " must be a whole number in " + min + ".." + max + ", got '"
                + Texts.clip(text) + "'");
    }

    /** {@code read.get()}; a store that cannot be read (a Redis server that is down) is a 503 naming {@code what}. */
    private static <T> T read(String what, Supplier<T> read) {
        try {
            return read.get();
        } catch (RuntimeException e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName());
            throw new ApiError(503, "cannot read " + what + ": " + Texts.clip(reason));
        }
    }
}
