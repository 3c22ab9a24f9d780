package dev.conclab.crawl.crawler;

import java.net.http.HttpClient;
import java.time.Duration;

/** The one HTTP client configuration of every model: HTTP/1.1, redirects never followed by the client. */
final class Clients {

    private Clients() {}

    static HttpClient create(CrawlConfig config) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)   // the crawler follows them, to count and limit them
                .connectTimeout(config.connectTimeout())
                .build();
    }

    /** Closes the client and waits for its threads (its selector and executor) to end. */
    static void close(HttpClient client) {
        client.shutdown();
        try {
            if (!client.awaitTermination(Duration.ofSeconds(10))) {
                client.shutdownNow();
                client.awaitTermination(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            client.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
