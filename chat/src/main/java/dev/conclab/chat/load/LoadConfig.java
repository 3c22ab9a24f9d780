package dev.conclab.chat.load;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What one load run does. Immutable; the constructor throws {@link IllegalArgumentException} naming the field and its
 * bounds when a value is out of them.
 *
 * <p>Connections are spread over the rooms round-robin (connection {@code i} joins room {@code load-(i mod rooms)}),
 * so with {@code connections = 100 × rooms} every room holds 100 members. Each rate step sends at the aggregate
 * {@code rate} messages per second for {@code duration}, from the connections in turn; a rate of 0 holds the
 * connections idle for the step. Every message is delivered to every member of its room, the sender included.
 *
 * @param url                the server's WebSocket URL, {@code ws://host:port/path}
 * @param connections        WebSocket connections to open and hold
 * @param rooms              rooms to spread them over (at most {@code connections})
 * @param rates              the aggregate send rates to run in turn, messages per second (0: idle)
 * @param duration           how long each rate step sends
 * @param serverPid          the server's process id, to read its memory from outside (empty: not read)
 * @param connectConcurrency WebSocket handshakes in flight at once while connecting
 * @param localAddresses     local source addresses to spread connections over (each gives its own ephemeral ports);
 *                           empty: the system's choice
 * @param ioThreads          the client event loop's threads
 * @param stopAboveP99Millis stop the rate steps after two in a row whose p99 delivery latency exceeds this (0: run
 *                           all)
 * @param connectTimeout     how long connecting and joining every connection may take
 * @param warmup             a step at the first non-zero rate before the measured steps, not reported (JIT, buffers);
 *                           zero: none
 */
public record LoadConfig(URI url, int connections, int rooms, List<Double> rates, Duration duration,
                         OptionalLong serverPid, int connectConcurrency, List<InetAddress> localAddresses,
                         int ioThreads, double stopAboveP99Millis, Duration connectTimeout,
                         Duration warmup) {

    /** The most connections one run opens (one process; the machine allows 20,000 open files per process). */
    public static final int MAX_CONNECTIONS = 19_000;
    /** The highest aggregate rate, messages per second. */
    public static final double MAX_RATE = 1_000_000;

    public LoadConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(rates, "rates");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(serverPid, "serverPid");
        Objects.requireNonNull(localAddresses, "localAddresses");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(warmup, "warmup");
        if (warmup.isNegative() || warmup.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("warmup must be in 0 s..10 min, got " + warmup);
        }
        if (!"ws".equals(url.getScheme()) || url.getHost() == null || url.getPort() <= 0) {
            throw new IllegalArgumentException("url must be ws://host:port/path with an explicit port, got " + url);
        }
        check("connections", connections, 1, MAX_CONNECTIONS);
        check("rooms", rooms, 1, connections);
        if (rates.isEmpty() || rates.size() > 100) {
            throw new IllegalArgumentException("rates must hold 1..100 steps, got " + rates.size());
        }
        for (double r : rates) {
            if (!(r >= 0) || r > MAX_RATE) {
                throw new IllegalArgumentException("rate must be in 0.." + (long) MAX_RATE + " messages/s, got " + r);
            }
        }
        if (duration.compareTo(Duration.ofMillis(100)) < 0 || duration.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("duration must be in 0.1 s..1 h, got " + duration);
        }
        serverPid.ifPresent(pid -> check("serverPid", pid, 1, Long.MAX_VALUE));
        check("connectConcurrency", connectConcurrency, 1, 10_000);
        check("ioThreads", ioThreads, 1, 64);
        if (!(stopAboveP99Millis >= 0)) {
            throw new IllegalArgumentException("stopAboveP99Millis must be >= 0, got " + stopAboveP99Millis);
        }
        if (connectTimeout.compareTo(Duration.ofSeconds(1)) < 0 || connectTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("connectTimeout must be in 1 s..1 h, got " + connectTimeout);
        }
        rates = List.copyOf(rates);
        localAddresses = List.copyOf(localAddresses);
    }

    /** {@code connections} over {@code rooms} at one {@code rate} for {@code duration}; other fields default. */
    public static LoadConfig of(URI url, int connections, int rooms, double rate, Duration duration) {
        return new LoadConfig(url, connections, rooms, List.of(rate), duration, OptionalLong.empty(), 256, List.of(),
                2, 0, Duration.ofMinutes(2), Duration.ZERO);
    }

    public LoadConfig withRates(List<Double> rates) {
        return new LoadConfig(url, connections, rooms, rates, duration, serverPid, connectConcurrency, localAddresses,
                ioThreads, stopAboveP99Millis, connectTimeout, warmup);
    }

    public LoadConfig withWarmup(Duration warmup) {
        return new LoadConfig(url, connections, rooms, rates, duration, serverPid, connectConcurrency, localAddresses,
                ioThreads, stopAboveP99Millis, connectTimeout, warmup);
    }

    public LoadConfig withServerPid(long pid) {
        return new LoadConfig(url, connections, rooms, rates, duration, OptionalLong.of(pid), connectConcurrency,
                localAddresses, ioThreads, stopAboveP99Millis, connectTimeout, warmup);
    }

    public LoadConfig withStopAboveP99Millis(double millis) {
        return new LoadConfig(url, connections, rooms, rates, duration, serverPid, connectConcurrency, localAddresses,
                ioThreads, millis, connectTimeout, warmup);
    }

    public LoadConfig withLocalAddresses(List<InetAddress> addresses) {
        return new LoadConfig(url, connections, rooms, rates, duration, serverPid, connectConcurrency, addresses,
                ioThreads, stopAboveP99Millis, connectTimeout, warmup);
    }

    public LoadConfig withIoThreads(int threads) {
        return new LoadConfig(url, connections, rooms, rates, duration, serverPid, connectConcurrency, localAddresses,
                threads, stopAboveP99Millis, connectTimeout, warmup);
    }

    /**
     * Parses a rate such as {@code 500/s}, {@code 500} or {@code 2k/s}; several steps are comma-separated
     * ({@code 100/s,200/s,500/s}).
     *
     * @throws IllegalArgumentException naming the text when it is not a rate
     */
    public static List<Double> parseRates(String text) {
        Objects.requireNonNull(text, "text");
        List<Double> out = new java.util.ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.endsWith("/s")) {
                p = p.substring(0, p.length() - 2);
            }
            double scale = 1;
            if (p.endsWith("k")) {
                scale = 1_000;
                p = p.substring(0, p.length() - 1);
            }
            try {
                double r = Double.parseDouble(p) * scale;
                if (!(r >= 0) || r > MAX_RATE) {
                    throw new IllegalArgumentException("--rate must be in 0.." + (long) MAX_RATE + "/s, got " + part);
                }
                out.add(r);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--rate must look like 500/s (or 100/s,200/s for steps), got '"
                        + part.trim() + "'");
            }
        }
        return out;
    }

    private static void check(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", got " + value);
        }
    }
}
