package dev.conclab.lab.web;

import java.util.List;

/**
 * One of the lab's systems as the web lab lists it. Immutable.
 *
 * @param key       {@code chat}, {@code jobs}, {@code crawl} or {@code etl}
 * @param available the web lab has a page for this system; the page of one that has none yet is a slot saying
 *                  what it will show (the summary) and how to use its command line meanwhile
 * @param page      the front end's route of its page
 */
record SystemView(String key, String title, boolean available, String page, String summary) {

    /** The four systems, in the order the catalog introduces them. */
    static List<SystemView> all() {
        return List.of(
                of("chat", "Chat server", true,
                        "The chat: one protocol, three models (an event loop on Netty epoll, a virtual thread per"
                                + " connection on Helidon, an OS thread per connection on Netty OIO), started here"
                                + " with its browser client and live counters."),
                of("jobs", "Task queue and DAGs", true,
                        "Queues, tasks in flight, counters and dead letters; DAG runs drawn as a Gantt chart."),
                of("crawl", "Crawler", true,
                        "Crawl a local test site from the browser: pages per second, requests, errors and latency"
                                + " percentiles, live."),
                of("etl", "ETL pipeline", true,
                        "Generate order files and load them: MB per second, records loaded and rejected, and a"
                                + " crash that resumes from the checkpoint."));
    }

    private static SystemView of(String key, String title, boolean hasPage, String summary) {
        return new SystemView(key, title, hasPage, "#/systems/" + key, summary);
    }
}
