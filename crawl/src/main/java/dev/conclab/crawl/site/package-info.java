/**
 * The local test site the crawler is measured against: {@link dev.conclab.crawl.site.TestSite}, a real HTTP server on
 * loopback serving a generated, seeded site ({@link dev.conclab.crawl.site.SiteLayout}) with configurable latency,
 * faults, redirects, robots.txt and a per-client rate limit ({@link dev.conclab.crawl.site.SiteConfig}).
 *
 * <p>The server is Netty, chosen by measurement: with wrk at zero latency on the 2-core machine it served more requests
 * per second than the JDK's {@code com.sun.net.httpserver} with a virtual-thread executor (measured when this module
 * was built), and it schedules latency on its event loops instead of parking a thread per request.
 */
package dev.conclab.crawl.site;
