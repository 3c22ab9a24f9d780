package dev.conclab.chat.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What one load run measured. Immutable ({@link #toJson()} for experiments to parse, {@link #toText()} for people).
 *
 * @param url                 the server
 * @param connectionsAsked    connections the run tried to open
 * @param connectionsHeld     connections open and joined to their room when the rate steps began
 * @param connectFailures     connections that failed to connect, upgrade or join
 * @param rooms               rooms the connections were spread over
 * @param connectSeconds      how long connecting and joining took
 * @param steps               one entry per rate step run
 * @param closesByCode        WebSocket closes the server initiated, by close code (1006: the connection ended
 *                            without a Close frame)
 * @param slowConsumerCloses  closes with 1008 whose reason names a slow consumer
 * @param errorsByCode        {@code error} messages received, by their {@code code}, plus {@code exception:Type}
 *                            for client-side exceptions
 * @param memoryBefore        the server's memory before connecting ({@link ServerMemory#UNKNOWN} without a pid)
 * @param memoryHeld          the server's memory holding the connections idle, before the first step
 * @param ephemeralPorts      the local port range and whether the connections fit in it
 */
public record LoadReport(String url, int connectionsAsked, int connectionsHeld, int connectFailures, int rooms,
                         double connectSeconds, List<Step> steps, Map<Integer, Long> closesByCode,
                         long slowConsumerCloses, Map<String, Long> errorsByCode, ServerMemory memoryBefore,
                         ServerMemory memoryHeld, String ephemeralPorts) {

    public LoadReport {
        Objects.requireNonNull(steps, "steps");
        steps = List.copyOf(steps);
        closesByCode = Map.copyOf(closesByCode);
        errorsByCode = Map.copyOf(errorsByCode);
    }

    /**
     * One rate step.
     *
     * @param rate         the aggregate send rate asked for, messages/s (0: idle)
     * @param seconds      how long it sent
     * @param sent         messages sent
     * @param acked        {@code ack}s received for them
     * @param expected     deliveries expected: for each message, the members of its room when it was sent
     * @param delivered    deliveries received (copies of this step's messages, at any member)
     * @param p50Millis    delivery latency, 50th percentile, ms (send to receipt, one clock)
     * @param p99Millis    99th percentile
     * @param p999Millis   99.9th percentile
     * @param maxMillis    the largest
     * @param loadAverage  the machine's 1-minute load average at the end of the step
     */
    public record Step(double rate, double seconds, long sent, long acked, long expected, long delivered,
                       double p50Millis, double p99Millis, double p999Millis, double maxMillis, double loadAverage) {

        /** Messages per second actually sent. */
        public double sentPerSecond() {
            return seconds > 0 ? sent / seconds : 0;
        }

        /** Whether every expected delivery arrived. */
        public boolean complete() {
            return delivered >= expected;
        }
    }

    /** Heap in use per held connection (held minus before, over the connections held), bytes; -1 when unknown. */
    public double heapPerConnection() {
        return perConnection(memoryBefore.heapBytes(), memoryHeld.heapBytes());
    }

    /** Resident set per held connection (held minus before, over the connections held), bytes; -1 when unknown. */
    public double rssPerConnection() {
        return perConnection(memoryBefore.rssBytes(), memoryHeld.rssBytes());
    }

    private double perConnection(long before, long held) {
        return before < 0 || held < 0 || connectionsHeld == 0 ? -1 : (double) (held - before) / connectionsHeld;
    }

    /**
     * The report as one JSON object: the record's fields, plus {@code heapPerConnection} and
     * {@code rssPerConnection}.
     */
    public String toJson() {
        try {
            var mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            var tree = mapper.valueToTree(this);
            ((com.fasterxml.jackson.databind.node.ObjectNode) tree).put("heapPerConnection", heapPerConnection())
                    .put("rssPerConnection", rssPerConnection());
            return mapper.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON", e);
        }
    }

    /** The report as a few lines of text. */
    public String toText() {
        var b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "load: %s  %d/%d connections held over %d rooms in %.1f s, "
                        + "%d connect failures%n", url, connectionsHeld, connectionsAsked, rooms, connectSeconds,
                connectFailures));
        b.append("ports: ").append(ephemeralPorts).append('\n');
        if (memoryHeld.rssBytes() >= 0) {
            b.append(String.format(Locale.ROOT, "server memory: heap %s -> %s, RSS %s -> %s; per held connection: "
                            + "heap %.0f B, RSS %.0f B%n", mib(memoryBefore.heapBytes()), mib(memoryHeld.heapBytes()),
                    mib(memoryBefore.rssBytes()), mib(memoryHeld.rssBytes()), heapPerConnection(),
                    rssPerConnection()));
        }
        b.append(String.format(Locale.ROOT, "%10s %10s %10s %12s %12s %9s %9s %9s %9s %6s%n", "rate/s", "sent/s",
                "acked", "expected", "delivered", "p50 ms", "p99 ms", "p999 ms", "max ms", "load"));
        for (Step s : steps) {
            b.append(String.format(Locale.ROOT, "%10.0f %10.0f %10d %12d %12d %9.2f %9.2f %9.2f %9.2f %6.2f%n",
                    s.rate(), s.sentPerSecond(), s.acked(), s.expected(), s.delivered(), s.p50Millis(),
                    s.p99Millis(), s.p999Millis(), s.maxMillis(), s.loadAverage()));
        }
        b.append("closes by code: ").append(closesByCode).append(", slow-consumer closes: ").append(slowConsumerCloses)
                .append('\n');
        b.append("errors: ").append(errorsByCode).append('\n');
        return b.toString();
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
