/**
 * The concurrent crawler: {@link dev.conclab.crawl.crawler.Crawl} runs one crawl with bounded concurrency, per-host
 * politeness ({@link dev.conclab.crawl.crawler.HostRateLimiter}), robots.txt, URL normalization and dedupe
 * ({@link dev.conclab.crawl.crawler.UrlNormalizer}), a depth limit, retries with back-off and jitter, 429 Retry-After,
 * redirect limits, timeouts and a body cap, over one of three {@link dev.conclab.crawl.crawler.FetchModel}s.
 */
package dev.conclab.crawl.crawler;
