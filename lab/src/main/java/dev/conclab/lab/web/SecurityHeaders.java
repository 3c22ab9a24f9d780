package dev.conclab.lab.web;

import io.javalin.http.Context;

import java.util.Map;

/**
 * The security headers every response of the web lab carries (pages, static files, API answers, errors, event
 * streams), set before anything else handles the request:
 * <ul>
 *   <li>{@code Content-Security-Policy}: everything from this lab only ({@code 'self'}), no inline script or style
 *       (the front end has none: its theme start-up is a file, charts and the timeline set styles through the CSS
 *       object model, which the policy allows), no plugins, no {@code <base>}, forms post only here, event streams
 *       and fetches to this lab only, and no page may frame it;</li>
 *   <li>{@code X-Content-Type-Options: nosniff}, {@code Referrer-Policy: no-referrer},
 *       {@code X-Frame-Options: DENY} (for browsers that ignore {@code frame-ancestors}).</li>
 * </ul>
 * Stateless; thread-safe.
 */
final class SecurityHeaders {

    /** The lab's Content-Security-Policy. */
    static final String CONTENT_SECURITY_POLICY = String.join("; ",
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'");

    /** Every header and its value. */
    static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "X-Frame-Options", "DENY");

    private SecurityHeaders() {
    }

    /** Sets the headers on the response (a before-handler of every path). */
    static void apply(Context ctx) {
        HEADERS.forEach(ctx::header);
    }
}
