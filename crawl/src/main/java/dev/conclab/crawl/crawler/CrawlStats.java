package dev.conclab.crawl.crawler;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters of one crawl. Thread-safe and wait-free to record (adders, an HdrHistogram {@link Recorder});
 * readers see a consistent-enough snapshot for progress lines.
 */
final class CrawlStats {

    final LongAdder pages = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder links = new LongAdder();
    final LongAdder bytes = new LongAdder();
    private final AtomicLongArray errors = new AtomicLongArray(ErrorKind.values().length);
    private final Recorder recorder = new Recorder(3);
    private final Histogram latencies = new Histogram(3);

    void latency(long nanos) {
        requests.increment();
        recorder.recordValue(Math.max(1, nanos / 1000)); // microseconds
    }

    void retried() {
        retries.increment();
    }

    void throttled() {
        throttled.increment();
    }

    void error(ErrorKind kind) {
        errors.incrementAndGet(kind.ordinal());
    }

    Map<ErrorKind, Long> errors() {
        Map<ErrorKind, Long> out = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            long n = errors.get(kind.ordinal());
            if (n > 0) {
                out.put(kind, n);
            }
        }
        return out;
    }

    /** All latencies recorded so far (microseconds). Only one caller at a time. */
    synchronized Histogram latencyMicros() {
        latencies.add(recorder.getIntervalHistogram());
        return latencies.copy();
    }
}
