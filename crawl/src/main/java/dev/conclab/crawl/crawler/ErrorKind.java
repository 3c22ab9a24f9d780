package dev.conclab.crawl.crawler;

/** Why a URL was not crawled: every bad input and failure is counted under one of these, never thrown. */
public enum ErrorKind {
    MALFORMED_URL(false), UNSUPPORTED_SCHEME(false), EXTERNAL_HOST(false), ROBOTS_DISALLOWED(false),
    HTTP_4XX(true), HTTP_5XX(true), RATE_LIMITED(true), TIMEOUT(true), CONNECT(true), IO(true),
    REDIRECT_LOOP(true), TOO_MANY_REDIRECTS(true), TOO_LARGE(true), NOT_HTML(true);

    private final boolean fetchError;

    ErrorKind(boolean fetchError) {
        this.fetchError = fetchError;
    }

    /** True for failures of a fetch; false for links skipped by policy before any request (counted, not errors). */
    public boolean fetchError() {
        return fetchError;
    }

    /** The kind as written in summaries: lower case with dashes. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
