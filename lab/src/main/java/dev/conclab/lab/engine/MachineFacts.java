package dev.conclab.lab.engine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where a result was measured: CPU model, cores, memory, JDK, OS and, when a probe ran, the CPython version.
 *
 * @param memoryBytes physical memory of the machine
 * @param python      the CPython version a probe used, or {@code null} when none ran
 */
public record MachineFacts(String cpuModel, int cores, long memoryBytes, String jdk, String os, String python) {

    private static final MachineFacts HERE = detect();

    /** The facts of this machine, read once per JVM. */
    public static MachineFacts here() {
        return HERE;
    }

    public MachineFacts withPython(String version) {
        return new MachineFacts(cpuModel, cores, memoryBytes, jdk, os, version);
    }

    /** One line, e.g. {@code AMD EPYC 7B13 · 2 cores · 23.5 GiB · JDK 25.0.3 (Eclipse Adoptium) · Linux 6.1}. */
    public String summary() {
        return String.format("%s · %d cores · %.1f GiB · JDK %s · %s%s", cpuModel, cores,
                memoryBytes / (1024.0 * 1024 * 1024), jdk, os, python == null ? "" : " · CPython " + python);
    }

    private static MachineFacts detect() {
        long memory = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : Runtime.getRuntime().maxMemory();
        return new MachineFacts(readCpuModel(), Runtime.getRuntime().availableProcessors(), memory,
                Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                null);
    }

    private static String readCpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try (Stream<String> lines = Files.lines(cpuinfo)) {
                return lines.filter(l -> l.startsWith("model name"))
                        .map(l -> l.substring(l.indexOf(':') + 1).strip())
                        .findFirst().orElse("unknown CPU");
            } catch (IOException | java.io.UncheckedIOException e) {
                return "unknown CPU";
            }
        }
        return System.getProperty("os.arch") + " CPU";
    }
}
