package dev.conclab.lab.web;

import io.javalin.http.Context;

import java.util.Optional;

/**
 * The runs: {@code POST /api/runs} starts one (202, or 400/404/409/429/503 with the reason),
 * {@code GET /api/runs/{id}} shows it, {@code GET /api/runs/{id}/events} streams it (see {@link RunEvents}),
 * {@code DELETE /api/runs/{id}} cancels it. Thread-safe; the state lives in the {@link RunManager}.
 */
final class RunHandler {

    private final RunManager runs;
    private final OpenStreams streams;

    RunHandler(RunManager runs, OpenStreams streams) {
        this.runs = runs;
        this.streams = streams;
    }

    void start(Context ctx) {
        RunRequest request = RunRequest.parse(ctx.body());
        switch (runs.start(request.experiment(), request.params(), request.quick())) {
            case Admission.Started(WebRun run) -> {
                ctx.header("Location", "/api/runs/" + run.id());
                Json.send(ctx, 202, RunView.Started.of(run));
            }
            case Admission.Refused(Admission.Reason reason, String message, Optional<WebRun> running) -> {
                if (running.isPresent()) {
                    Json.send(ctx, reason.status(), new RunView.Busy(message, running.get().id(),
                            running.get().eventsPath()));
                } else {
                    Json.error(ctx, reason.status(), message);
                }
            }
        }
    }

    void show(Context ctx) {
        Json.ok(ctx, RunView.of(run(ctx)));
    }

    /** Streams the run until it ends; a client that goes away just ends its stream. */
    void events(Context ctx) {
        WebRun run = run(ctx);
        streams.write(() -> RunEvents.stream(ctx, run));
    }

    void cancel(Context ctx) {
        WebRun run = run(ctx);
        if (run.done()) {
            throw new ApiError(409, "run " + run.id() + " has already ended; there is nothing to cancel");
        }
        runs.cancel(run.id());
        Json.send(ctx, 202, new RunView.Cancelling(run.id(), "cancelling"));
    }

    private WebRun run(Context ctx) {
        String id = ctx.pathParam("id");
        return runs.run(id).orElseThrow(() -> ApiError.notFound("unknown run '" + Texts.clip(id)
                + "' (runs are kept until " + RunManager.KEPT + " newer ones have ended)"));
    }
}
