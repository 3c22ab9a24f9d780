package dev.conclab.bench.ratelimit;

import org.openjdk.jmh.results.RunResult;

import java.io.PrintStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns {@link RateLimitBenchmark} results into ratios to the fastest peer, per path and thread count. */
public final class RateLimitReport {

    private RateLimitReport() {
    }

    /** One case: the path ({@code admitted}/{@code rejected}) and the thread count. */
    public record Case(String path, int threads) {
    }

    /** Calls per microsecond of each limiter, by case, in the order JMH ran them. */
    public static Map<Case, Map<String, Double>> rates(Collection<RunResult> results) {
        Map<Case, Map<String, Double>> rates = new LinkedHashMap<>();
        for (RunResult run : results) {
            var params = run.getParams();
            int threads = params.getThreads();
            var key = new Case(params.getParam("path"), threads);
            rates.computeIfAbsent(key, k -> new LinkedHashMap<>())
                    .put(params.getParam("limiter"), run.getPrimaryResult().getScore());
        }
        return rates;
    }

    /** Prints each case's calls per second and the ratio to the fastest peer, under the machine. */
    public static void print(Map<Case, Map<String, Double>> rates, String machine, PrintStream out) {
        out.println();
        out.println("Rate limiter tryAcquire throughput, one shared limiter (RateLimitBenchmark)");
        out.println("machine: " + machine);
        out.printf("%-9s %7s %-13s %16s %12s%n", "path", "threads", "limiter", "calls/s", "vs fastest peer");
        rates.forEach((c, byLimiter) -> {
            double fastestPeer = byLimiter.entrySet().stream()
                    .filter(e -> !e.getKey().equals(RateLimitBenchmark.TOOLKIT))
                    .mapToDouble(Map.Entry::getValue).max().orElse(Double.NaN);
            byLimiter.forEach((limiter, perMicro) -> out.printf("%-9s %7d %-13s %,16.0f %11.2f×%n", c.path(),
                    c.threads(), limiter, perMicro * 1e6, perMicro / fastestPeer));
        });
    }
}
