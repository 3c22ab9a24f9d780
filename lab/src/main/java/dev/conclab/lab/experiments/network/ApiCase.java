package dev.conclab.lab.experiments.network;

import dev.conclab.lab.experiments.network.ApiServer.Model;
import dev.conclab.lab.experiments.network.ClosedLoopLoad.Outcome;
import dev.conclab.lab.experiments.network.ClosedLoopLoad.Stream;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One load case against a fresh {@link ApiServer}: start it, warm it up briefly, reset its counters, run the closed
 * loop, read the counters, stop it. Shared by {@code api-handlers} and {@code async-frameworks}.
 *
 * @param model       the server model
 * @param outcomes    one per stream, in the order given
 * @param peakHandlers the most handlers running at once (called, not returned)
 * @param peakInFlight the most requests in flight at once (called, response not complete)
 * @param handlerThreads distinct threads that ran handlers
 * @param completionThreads distinct threads that completed async responses
 */
record ApiCase(Model model, List<Outcome> outcomes, int peakHandlers, int peakInFlight, int handlerThreads,
               int completionThreads) {

    /** Warm-up load before every case: a few requests on each endpoint, so the JIT and the pools are ready. */
    private static final Duration WARM_UP = Duration.ofMillis(250);

    /** A path and its number of clients. */
    record Path(String path, int clients) {
    }

    /** Runs {@code paths} at once for {@code duration} against a fresh server of {@code model}. Blocks; cleans up. */
    static ApiCase run(Model model, int poolThreads, long roundsPerMs, Duration duration, List<Path> paths)
            throws IOException, InterruptedException {
        try (ApiServer server = ApiServer.start(model, poolThreads, roundsPerMs)) {
            String base = "http://127.0.0.1:" + server.port();
            ClosedLoopLoad.run(WARM_UP, List.of(new Stream("warm-up io", URI.create(base + "/io?ms=1"), 4),
                    new Stream("warm-up cpu", URI.create(base + "/cpu?ms=1"), 2)));
            server.resetCounters();
            List<Stream> streams = new ArrayList<>();
            for (Path p : paths) {
                streams.add(new Stream(p.path(), URI.create(base + p.path()), p.clients()));
            }
            List<Outcome> outcomes = ClosedLoopLoad.run(duration, streams);
            return new ApiCase(model, outcomes, server.peakHandlers(), server.peakInFlight(),
                    server.handlerThreads(), server.completionThreads());
        }
    }

    /** The outcome of the first stream. */
    Outcome first() {
        return outcomes.getFirst();
    }
}
