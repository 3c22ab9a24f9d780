package dev.conclab.lab.experiments.network;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A closed-loop HTTP load generator on {@link HttpClient}: each of {@code clients} virtual threads sends a request,
 * waits for the answer, records its latency and sends the next, until the duration is over. Several
 * {@link Stream}s (a URL and its number of clients) run at once, so a mix of endpoints is one run; each stream gets
 * its own latency histogram (HdrHistogram, 1 µs to 1 minute, 3 significant digits).
 *
 * <p>Closed loop means the offered load falls when the server slows down: throughput is then clients / latency
 * (Little's law), and a latency percentile is the latency of the requests that were sent, without the ones a slower
 * server kept the clients from sending (coordinated omission). That is the right shape here, where the question is
 * how many waiting requests each server model can hold, not how it meets a fixed arrival rate.
 *
 * <p><b>Blocking:</b> {@link #run} blocks until every client has finished its last request; the client and its
 * threads are closed before it returns. Any non-200 answer or I/O error fails the run with its URL. Not thread-safe;
 * one run at a time.
 */
final class ClosedLoopLoad {

    /** Clients that hit one URL. */
    record Stream(String name, URI uri, int clients) {
        Stream {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(uri, "uri");
            if (clients < 1) {
                throw new IllegalArgumentException("a stream needs at least one client, got " + clients);
            }
        }
    }

    /** What one stream measured. */
    record Outcome(String name, int clients, long requests, double seconds, double p50Ms, double p99Ms,
                   double maxMs) {
        double throughput() {
            return requests / seconds;
        }
    }

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private ClosedLoopLoad() {
    }

    /** Runs every stream at once for {@code duration} and returns their outcomes in the same order. */
    static List<Outcome> run(Duration duration, List<Stream> streams) throws IOException, InterruptedException {
        if (streams.isEmpty()) {
            throw new IllegalArgumentException("no stream to run");
        }
        List<Histogram> histograms = new ArrayList<>();
        List<List<Future<Long>>> counts = new ArrayList<>();
        long start;
        long end;
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .connectTimeout(Duration.ofSeconds(5)).executor(clients).build()) {
            start = System.nanoTime();
            long deadline = start + duration.toNanos();
            for (Stream s : streams) {
                Histogram h = new Histogram(TimeUnit.MINUTES.toNanos(1), 3);
                histograms.add(h);
                HttpRequest request = HttpRequest.newBuilder(s.uri()).timeout(REQUEST_TIMEOUT).GET().build();
                List<Future<Long>> mine = new ArrayList<>();
                for (int i = 0; i < s.clients(); i++) {
                    mine.add(clients.submit(() -> loop(http, request, deadline, h)));
                }
                counts.add(mine);
            }
            for (List<Future<Long>> fs : counts) {
                for (Future<Long> f : fs) {
                    await(f);
                }
            }
            end = System.nanoTime();
        }
        double seconds = (end - start) / 1e9;
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < streams.size(); i++) {
            Stream s = streams.get(i);
            Histogram h = histograms.get(i);
            long n = h.getTotalCount();
            out.add(new Outcome(s.name(), s.clients(), n, seconds, ms(h.getValueAtPercentile(50), n),
                    ms(h.getValueAtPercentile(99), n), ms(h.getMaxValue(), n)));
        }
        return out;
    }

    private static long loop(HttpClient http, HttpRequest request, long deadline, Histogram h)
            throws IOException, InterruptedException {
        long sent = 0;
        while (System.nanoTime() < deadline) {
            long t0 = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            long took = System.nanoTime() - t0;
            if (response.statusCode() != 200) {
                throw new IOException(request.uri() + " answered " + response.statusCode() + ": " + response.body());
            }
            synchronized (h) { // Histogram is not thread-safe; one lock per stream is cheap next to a request
                h.recordValue(Math.min(took, h.getHighestTrackableValue()));
            }
            sent++;
        }
        return sent;
    }

    private static void await(Future<Long> f) throws IOException, InterruptedException {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("a load client failed: " + cause, cause);
        }
    }

    private static double ms(long nanos, long count) {
        return count == 0 ? Double.NaN : nanos / 1e6;
    }
}
