package dev.conclab.chat.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server process's memory read from outside, without any hook in the server: the resident set from
 * {@code /proc/<pid>/status} ({@code VmRSS}) and the Java heap in use from {@code jcmd <pid> GC.heap_info} after a
 * {@code jcmd <pid> GC.run} (so the heap figure is live data, not garbage). Works for a JVM of the same user on
 * Linux; {@code heapBytes} is -1 when the process is no JVM or {@code jcmd} is missing. Immutable.
 *
 * @param heapBytes Java heap in use after a full collection, bytes (-1: unknown)
 * @param rssBytes  resident set size, bytes (-1: unknown)
 */
public record ServerMemory(long heapBytes, long rssBytes) {

    private static final Pattern VM_RSS = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB");
    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    /** Unknown memory. */
    public static final ServerMemory UNKNOWN = new ServerMemory(-1, -1);

    /**
     * Reads process {@code pid}'s memory now (runs a full GC in it first; takes up to a few seconds). Blocks.
     *
     * @throws IllegalArgumentException when no process {@code pid} exists
     */
    public static ServerMemory read(long pid) throws InterruptedException {
        if (ProcessHandle.of(pid).isEmpty()) {
            throw new IllegalArgumentException("no process with pid " + pid);
        }
        long heap = -1;
        String gc = jcmd(pid, "GC.run");
        if (gc != null) {
            heap = heapUsed(jcmd(pid, "GC.heap_info"));
        }
        return new ServerMemory(heap, rss(pid));
    }

    /** {@code VmRSS} of process {@code pid} in bytes, -1 when it cannot be read. */
    public static long rss(long pid) {
        try {
            Matcher m = VM_RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
            return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The heap in use from {@code GC.heap_info}'s output: the first line of G1, Parallel or ZGC's summary, or the sum
     * of the generations' lines (Serial); -1 when none is found.
     */
    static long heapUsed(String heapInfo) {
        if (heapInfo == null) {
            return -1;
        }
        long sum = -1;
        for (String raw : heapInfo.split("\n")) {
            String line = raw.strip();
            Matcher m = USED.matcher(line);
            if (!m.find()) {
                continue;
            }
            long used = Long.parseLong(m.group(1)) * 1024;
            if (line.contains(" heap ")) {
                return used;                                // one line sums the whole heap (G1, Z, Shenandoah)
            }
            if (line.contains("generation") || line.startsWith("PSYoungGen") || line.startsWith("ParOldGen")) {
                sum = Math.max(sum, 0) + used;              // a generation (Serial, Parallel): add them up
            }
        }
        return sum;
    }

    /** Runs {@code jcmd pid command}; its output, or null when it fails or takes over 30 s. */
    private static String jcmd(long pid, String command) throws InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return null;
        }
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
                    .redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        }
    }
}
