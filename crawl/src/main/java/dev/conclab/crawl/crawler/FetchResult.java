package dev.conclab.crawl.crawler;

import java.net.URI;

/** The outcome of fetching one URL, redirects, retries and waits included. Immutable. */
public sealed interface FetchResult {

    /** The URL asked for (normalized). */
    URI uri();

    /**
     * An HTML (or robots text) page.
     *
     * @param finalUri where the redirects ended
     * @param attempts requests sent, redirects and retries included
     */
    record Page(URI uri, URI finalUri, int status, byte[] body, int attempts) implements FetchResult {}

    /** A failure or a policy skip, counted under {@code kind}. */
    record Failure(URI uri, ErrorKind kind, String detail, int attempts) implements FetchResult {}
}
