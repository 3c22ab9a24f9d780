package dev.conclab.lab.experiments.support;

import dev.conclab.lab.probe.ProbeException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Collects what a child process prints: for experiments whose child JVM reports its measurements as lines on
 * stdout. Stateless; safe to call from any thread.
 */
public final class ChildLines {

    private ChildLines() {
    }

    /**
     * Closes the child's stdin, reads its stdout on a virtual thread until the child exits, and returns the lines,
     * stripped. The child is destroyed before this returns, however it returns.
     *
     * @param what names the child in error messages ("the safepoint child JVM")
     * @throws ProbeException if the child does not exit within {@code timeoutMillis} or exits with a status
     *                        other than 0
     */
    public static List<String> of(Process child, String what, long timeoutMillis) throws InterruptedException {
        try {
            child.getOutputStream().close();
            List<String> lines = new ArrayList<>();
            Thread reader = Thread.ofVirtual().name("child-" + child.pid() + "-stdout").start(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(line.strip());
                        }
                    }
                } catch (IOException e) {
                    // destroyed: no more lines
                }
            });
            if (!child.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                throw new ProbeException(what + " did not finish in " + timeoutMillis + " ms");
            }
            reader.join(5_000);
            if (child.exitValue() != 0) {
                throw new ProbeException(what + " exited with status " + child.exitValue());
            }
            synchronized (lines) {
                return List.copyOf(lines);
            }
        } catch (IOException e) {
            throw new ProbeException("cannot close the stdin of " + what + ": " + e.getMessage(), e);
        } finally {
            child.destroyForcibly();
        }
    }
}
