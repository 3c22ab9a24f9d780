package dev.conclab.etl.input;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes written for people: {@code 1GB}, {@code 512MB}, {@code 64k}, {@code 1000}. Stateless. */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b)?");

    private Sizes() {}

    /**
     * Parses a size (units are powers of 1024: {@code 1GB} is 2^30 bytes).
     *
     * @throws IllegalArgumentException naming the text if it is not a positive size
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("bad size '" + text + "' (expected e.g. 1GB, 256MB, 64KB or a byte count)");
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10; case "m" -> 20; case "g" -> 30; case "t" -> 40; default -> 0;
        };
        double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
        if (bytes < 1 || bytes > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException("bad size '" + text + "' (must be at least 1 byte)");
        }
        return (long) bytes;
    }

    /** {@code bytes} as a short human string ({@code 1.00 GB}). */
    public static String format(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.2f GB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
        if (bytes >= 1L << 10) return String.format(Locale.ROOT, "%.1f KB", bytes / (double) (1L << 10));
        return bytes + " B";
    }
}
