package dev.conclab.lab.web;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every kind of response carries the security headers: a page, a static file, an API answer, 404s, a refusal. */
class SecurityHeadersTest extends WebApiTestBase {

    private static final Map<String, String> EXPECTED = Map.of(
            "Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
                    + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
                    + " frame-ancestors 'none'",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "X-Frame-Options", "DENY");

    @Test
    void everyResponseCarriesTheSecurityHeaders() throws Exception {
        record Case(String what, HttpRequest request, int status, String type) {
        }
        String base = "http://127.0.0.1:" + lab.lab.port();
        List<Case> cases = List.of(
                new Case("the page", get(base + "/"), 200, "text/html"),
                new Case("a static file", get(base + "/css/app.css"), 200, "text/css"),
                new Case("a developer page", get(base + "/dev/charts-selftest.html"), 200, "text/html"),
                new Case("an API answer", get(base + "/api/catalog"), 200, "application/json"),
                new Case("an unknown endpoint", get(base + "/api/nothing-here"), 404, "application/json"),
                new Case("an unknown card", get(base + "/api/cards/basics-999"), 404, "application/json"),
                new Case("a missing static file", get(base + "/no-such-page.html"), 404, ""),
                new Case("a cross-origin POST", HttpRequest.newBuilder(URI.create(base + "/api/runs"))
                        .header("Origin", "http://evil.example").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), 403, "application/json"));
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (Case c : cases) {
                HttpResponse<String> response = http.send(c.request(), HttpResponse.BodyHandlers.ofString());
                HttpHeaders headers = response.headers();
                assertThat(response.statusCode()).as(c.what()).isEqualTo(c.status());
                assertThat(headers.firstValue("Content-Type").orElse("")).as(c.what()).startsWith(c.type());
                EXPECTED.forEach((name, value) -> assertThat(headers.allValues(name)).as(c.what() + ": " + name)
                        .containsExactly(value));
            }
        }
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).GET().build();
    }
}
