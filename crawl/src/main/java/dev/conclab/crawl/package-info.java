/**
 * The crawl system: a concurrent crawler ({@link dev.conclab.crawl.crawler}) and the local test site it is measured
 * against ({@link dev.conclab.crawl.site}). Depends on the toolkit and its own libraries (Netty, jsoup,
 * HdrHistogram), never on another system or on the lab.
 */
package dev.conclab.crawl;
