package dev.conclab.lab.web;

import io.javalin.http.Context;

import java.util.Locale;
import java.util.Set;

/**
 * Checks every request before it is handled, because the browser is not trusted and other pages run in it too:
 * <ul>
 *   <li>on a loopback-bound lab the {@code Host} must name a loopback address ({@code localhost}, {@code 127.x.y.z},
 *       {@code [::1]}), so a foreign site cannot reach the API by pointing its own name at 127.0.0.1 (DNS
 *       rebinding);</li>
 *   <li>a request that changes state ({@code POST}, {@code DELETE}, ...) carrying an {@code Origin} must come from
 *       this lab's own origin, so a page elsewhere cannot start or cancel runs;</li>
 *   <li>{@code POST} bodies must be declared {@code application/json}, which a cross-site form cannot send without
 *       a preflight this server never grants.</li>
 * </ul>
 * A refused request gets 403 (or 415) with a one-line error. Immutable; thread-safe.
 */
final class RequestGuard {

    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "::1", "[::1]");

    private final boolean loopbackOnly;

    /** @param loopbackOnly the lab listens on loopback only, so every honest Host names loopback */
    RequestGuard(boolean loopbackOnly) {
        this.loopbackOnly = loopbackOnly;
    }

    void check(Context ctx) {
        String host = ctx.header("Host");
        if (loopbackOnly && (host == null || !loopback(host))) {
            throw new ApiError(403, "this web lab answers only requests addressed to 127.0.0.1 or localhost"
                    + " (Host: " + (host == null ? "none" : Texts.clip(host)) + ")");
        }
        String method = ctx.method().name();
        if (SAFE_METHODS.contains(method)) {
            return;
        }
        String origin = ctx.header("Origin");
        if (origin != null && !origin.equals("http://" + host)) {
            throw new ApiError(403, "cross-origin request refused: " + Texts.clip(origin)
                    + " is not this lab (http://" + (host == null ? "?" : Texts.clip(host)) + ")");
        }
        if (method.equals("POST")) {
            String type = ctx.contentType();
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
                throw new ApiError(415, "POST " + ctx.path() + " takes a JSON body"
                        + " (Content-Type: application/json, not " + (type == null ? "none" : Texts.clip(type)) + ")");
            }
        }
    }

    /** Whether a Host header ({@code name[:port]}) names a loopback address. */
    static boolean loopback(String hostHeader) {
        String name = hostHeader.strip().toLowerCase(Locale.ROOT);
        if (name.startsWith("[")) {
            int close = name.indexOf(']');
            name = close < 0 ? name : name.substring(0, close + 1);
        } else if (name.indexOf(':') == name.lastIndexOf(':') && name.contains(":")) {
            name = name.substring(0, name.indexOf(':'));
        }
        return LOOPBACK_NAMES.contains(name) || name.matches("127(\\.\\d{1,3}){3}");
    }
}
