package dev.conclab.jobs.worker;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.sqlite.SqliteBroker;
import java.nio.file.Path;

/**
 * Opens a broker from a URL: {@code sqlite:PATH} (or {@code sqlite://PATH}) for the embedded broker. Stateless.
 * (The Redis broker's {@code redis://HOST:PORT} is added where that broker lands.)
 */
public final class BrokerUrls {

    private BrokerUrls() {
    }

    /** Opens the broker the URL names; throws {@link IllegalArgumentException} for a scheme it does not know. */
    public static Broker open(String url) {
        if (url.startsWith("sqlite://")) {
            return SqliteBroker.open(Path.of(url.substring("sqlite://".length())));
        }
        if (url.startsWith("sqlite:")) {
            return SqliteBroker.open(Path.of(url.substring("sqlite:".length())));
        }
        throw new IllegalArgumentException("unknown broker URL '" + url + "'; expected sqlite:PATH");
    }
}
