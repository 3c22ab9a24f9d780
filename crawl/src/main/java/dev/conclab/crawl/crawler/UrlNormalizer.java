package dev.conclab.crawl.crawler;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Resolves a link against its page and puts it in canonical form, so that spellings of one URL dedupe to one key:
 * lower-case scheme and host, no default port, dot segments removed, an empty path as {@code /}, no fragment, query
 * parameters sorted and {@code utm_*} tracking parameters dropped. Stateless and thread-safe.
 */
public final class UrlNormalizer {

    /** A normalized URL, or the reason the link was rejected. */
    public sealed interface Result permits Ok, Rejected {}

    public record Ok(URI uri) implements Result {}

    public record Rejected(ErrorKind kind, String detail) implements Result {}

    private UrlNormalizer() {}

    /** Normalizes {@code href} resolved against {@code base} (which may be null for an absolute link). */
    public static Result normalize(URI base, String href) {
        if (href == null || href.isBlank()) {
            return new Rejected(ErrorKind.MALFORMED_URL, "empty link");
        }
        URI uri;
        try {
            uri = new URI(href.strip());
            if (base != null) {
                uri = base.resolve(uri);
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            return new Rejected(ErrorKind.MALFORMED_URL, e.getMessage());
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
            return new Rejected(ErrorKind.UNSUPPORTED_SCHEME, "scheme " + scheme + " in " + href);
        }
        if (uri.getHost() == null) {
            return new Rejected(ErrorKind.MALFORMED_URL, "no host in " + href);
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        if ((scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443)) {
            port = -1;
        }
        String path = uri.normalize().getRawPath();
        if (path == null || path.isEmpty()) {
            path = "/";
        }
        while (path.startsWith("/../")) {          // RFC 3986 5.2.4: dot segments above the root are dropped
            path = path.substring(3);
        }
        String query = canonicalQuery(uri.getRawQuery());
        try {
            return new Ok(new URI(scheme + "://" + host + (port < 0 ? "" : ":" + port) + path
                    + (query == null ? "" : "?" + query)));
        } catch (URISyntaxException e) {
            return new Rejected(ErrorKind.MALFORMED_URL, e.getMessage());
        }
    }

    private static String canonicalQuery(String raw) {
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        String kept = Arrays.stream(raw.split("&"))
                .filter(p -> !p.isEmpty() && !p.toLowerCase(Locale.ROOT).startsWith("utm_"))
                .sorted()
                .collect(Collectors.joining("&"));
        return kept.isEmpty() ? null : kept;
    }

    /** The politeness key of a URL: scheme, host and port. */
    public static String hostKey(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
    }
}
