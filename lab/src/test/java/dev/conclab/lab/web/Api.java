package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ResultStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.stream.Stream;

/**
 * A client of one web lab for tests: JSON requests with Java's {@link HttpClient}, server-sent events read line by
 * line, and raw requests over a socket for paths an HTTP client would normalise. Close it to stop its threads.
 */
final class Api implements AutoCloseable {

    /** A response: status and body as JSON (or as text when it is not JSON). */
    record Answer(int status, String body, String contentType) {
        JsonNode json() {
            try {
                return ResultStore.JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        String error() {
            return json().path("error").asText(null);
        }
    }

    /** One server-sent event. */
    record Event(String name, String data) {
        JsonNode json() {
            try {
                return ResultStore.JSON.readTree(data);
            } catch (IOException e) {
                throw new AssertionError("event data is not JSON: " + data, e);
            }
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;
    private final int port;

    Api(WebLab lab) {
        this.port = lab.port();
        this.base = "http://127.0.0.1:" + port;
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Answer post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Answer delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body(),
                    response.headers().firstValue("Content-Type").orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Opens a run's event stream; read it with {@link Events#next()}, close it when done. */
    Events events(String path) {
        try {
            HttpResponse<Stream<String>> response = http.send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofLines());
            return new Events(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                    response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** An open event stream. */
    static final class Events implements AutoCloseable {
        final int status;
        final String contentType;
        private final Stream<String> lines;
        private final Iterator<String> it;

        Events(int status, String contentType, Stream<String> lines) {
            this.status = status;
            this.contentType = contentType;
            this.lines = lines;
            this.it = lines.iterator();
        }

        /** The next event (comments skipped), or {@code null} when the stream has ended. Blocks until it comes. */
        Event next() {
            String name = "message";
            StringBuilder data = new StringBuilder();
            boolean any = false;
            while (it.hasNext()) {
                String line = it.next();
                if (line.isEmpty()) {
                    if (any) {
                        return new Event(name, data.toString());
                    }
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                any = true;
                if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).strip());
                }
            }
            return any ? new Event(name, data.toString()) : null;
        }

        /** Reads events until one named {@code name}, which it returns; fails if the stream ends first. */
        Event until(String name) {
            for (Event e = next(); e != null; e = next()) {
                if (e.name().equals(name)) {
                    return e;
                }
            }
            throw new AssertionError("the stream ended without a '" + name + "' event");
        }

        @Override
        public void close() {
            lines.close();
        }
    }

    /** Sends {@code GET <rawPath>} byte for byte over a socket and returns the status and the body. */
    Answer raw(String rawPath) {
        return rawWithHost(rawPath, "127.0.0.1:" + port);
    }

    /** Sends {@code GET <rawPath>} with the given {@code Host} header, byte for byte, over a socket. */
    Answer rawWithHost(String rawPath, String host) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + rawPath + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            String statusLine = response.lines().findFirst().orElse("");
            String[] parts = statusLine.split(" ");
            int status = parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
            int split = response.indexOf("\r\n\r\n");
            return new Answer(status, split < 0 ? "" : response.substring(split + 4), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
