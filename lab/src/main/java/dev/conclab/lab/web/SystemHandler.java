package dev.conclab.lab.web;

import io.javalin.http.Context;

import java.util.List;

/** {@code GET /api/systems}: the lab's systems and whether each is built in. Immutable; thread-safe. */
final class SystemHandler {

    private final List<SystemView> systems = SystemView.all();

    void list(Context ctx) {
        Json.ok(ctx, systems);
    }
}
