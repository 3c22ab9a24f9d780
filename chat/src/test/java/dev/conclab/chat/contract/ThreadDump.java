package dev.conclab.chat.contract;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Prints a dump of every thread of this JVM, virtual threads included (which {@link Thread#getAllStackTraces()}
 * leaves out), through the HotSpot diagnostic bean: the evidence a failed timing-sensitive test leaves behind.
 */
final class ThreadDump {

    private ThreadDump() {
    }

    /** Prints the dump under a header naming {@code what}; a dump that cannot be taken prints why instead. */
    static void print(PrintStream out, String what) {
        Path file = null;
        try {
            file = Files.createTempFile("chat-threads-", ".txt");
            Files.delete(file); // dumpThreads refuses to overwrite
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            out.println("---- threads at the failure of " + what + " ----");
            out.println(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            out.println("---- no thread dump for " + what + ": " + e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file left behind
                }
            }
        }
    }
}
