package dev.conclab.lab.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.toolkit.process.ChildTempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one probe script in a child process of a run and reads the one JSON object it prints: the plumbing under
 * {@link PythonProbes} (CPython with the modules a probe needs) and under experiments that run a script on another
 * runtime (PyPy, Jython, a CPython of another build).
 *
 * <p>Scripts are the resources {@code probes/<name>}, extracted once per JVM into one folder beside
 * {@value #LIBRARY}, the helpers every probe imports (multiprocessing needs a real file as {@code __main__}).
 *
 * <p>{@link #run} blocks the caller until the script exits or times out; whatever the script left running is
 * killed before it returns, and cancelling the run kills the process ({@link RunContext#children()}). The script's
 * {@code TMPDIR} is a directory of its own, deleted once everything of the probe has been killed: a killed Python
 * leaves its temp files ({@code multiprocessing}'s {@code pymp-*} directories) behind, and they must not stay in
 * {@code /tmp}. Thread-safe.
 */
public final class ProbeProcess {

    /** The module of helpers that probes import; it is extracted beside every probe. */
    static final String LIBRARY = "probelib.py";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();
    private static Path extractionDir;

    private ProbeProcess() {
    }

    /** What a finished script printed, and how long it ran. */
    public record Output(JsonNode json, double seconds) {
    }

    /**
     * Runs {@code launcher} (the executable and any options it takes before the script), then the script
     * {@code probes/<script>}, then {@code args}, with {@code env} added to the environment.
     *
     * @throws ProbeException when the process cannot start, fails, times out or prints no JSON object; the
     *                        message names the script and, for a failure, ends with the tail of its stderr
     */
    public static Output run(RunContext ctx, List<String> launcher, String script, Map<String, String> env,
                             Duration timeout, String... args) throws InterruptedException {
        ctx.checkCancelled();
        Path file = extract(script);
        List<String> command = new ArrayList<>(launcher);
        command.add(file.toString());
        command.addAll(List.of(args));
        ChildTempDir tmp = ChildTempDir.create("conclab-probe-");
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("TMPDIR", tmp.path().toString());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        builder.environment().put("PYTHONIOENCODING", "utf-8");
        builder.environment().putAll(env);
        String name = "probe " + script;
        long start = System.nanoTime();
        // The JDK dates a process from the boot time, which Linux gives in whole seconds: allow for that error.
        Instant startedAt = Instant.now().minusSeconds(2);
        Process process;
        try {
            process = ctx.children().start(builder);
        } catch (IOException e) {
            tmp.close();
            throw new ProbeException("cannot start " + launcher.getFirst() + " for " + name + ": " + e.getMessage(),
                    e);
        }
        var readers = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<String> out = readers.submit(() -> read(process.getInputStream()));
            Future<String> err = readers.submit(() -> read(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ProbeException(name + " timed out after " + timeout.toSeconds() + " s");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // Whatever the probe left running would hold its output open: the probe is done, so they go too.
            killOrphans(file, startedAt);
            String stdout = get(out);
            if (process.exitValue() != 0) {
                throw new ProbeException(name + " exited with status " + process.exitValue() + ": "
                        + tail(get(err)));
            }
            try {
                JsonNode json = JSON.readTree(stdout);
                if (json == null || !json.isObject()) {
                    throw new ProbeException(name + " printed no JSON object: " + tail(stdout));
                }
                return new Output(json, seconds);
            } catch (IOException e) {
                throw new ProbeException(name + " printed invalid JSON: " + tail(stdout), e);
            }
        } finally {
            // Kill first, then wait for the readers: they end when every process holding the pipes has gone.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            killOrphans(file, startedAt);
            readers.close();
            try {
                tmp.close();
            } catch (UncheckedIOException e) {
                // A killed process still dying may be writing there: never let that hide the probe's result.
                // What stays is under conclab-probe-*, which .ci/tmp-leaks reports.
            }
        }
    }

    /**
     * Kills what is left of the probe's processes after the probe itself has ended: a child whose parent has exited
     * is no longer among {@code descendants()} (it now belongs to init), yet it may still hold the probe's stdout
     * open, which would keep the readers — and this run — waiting for ever. A forked child keeps the probe's
     * command line, whose script path is unique to this JVM, so it is found by its arguments. (A spawned child
     * runs {@code python -c …} and is not found this way; the probes join or terminate theirs.)
     */
    private static void killOrphans(Path script, Instant startedAt) {
        String path = script.toString();
        ProcessHandle.allProcesses()
                .filter(p -> arguments(p).contains(path))
                .filter(p -> p.info().startInstant().map(t -> !t.isBefore(startedAt)).orElse(false))
                .forEach(p -> {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    awaitExit(p);
                });
    }

    /**
     * A process's arguments. {@code ProcessHandle.Info} leaves them out when the executable's path differs from
     * the first argument (as for {@code python3}, a link to {@code python3.11}), so they are read from
     * {@code /proc} where it exists.
     */
    private static List<String> arguments(ProcessHandle process) {
        Path cmdline = Path.of("/proc", Long.toString(process.pid()), "cmdline");
        try {
            return List.of(Files.readString(cmdline, StandardCharsets.UTF_8).split("\0"));
        } catch (IOException | UncheckedIOException e) {
            return process.info().arguments().map(List::of).orElse(List.of()); // no /proc, or it has gone
        }
    }

    /** Waits a little for a killed process to be gone, so that nothing of the probe is alive when it returns. */
    private static void awaitExit(ProcessHandle process) {
        try {
            process.onExit().get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // SIGKILL cannot be refused; a process still not reaped after 2 s is the kernel's business now.
        }
    }

    private static String get(Future<String> future) throws InterruptedException {
        try {
            return future.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return "";
        }
    }

    private static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private static String tail(String text) {
        String stripped = text.strip();
        return stripped.length() <= 600 ? stripped : "…" + stripped.substring(stripped.length() - 600);
    }


    /**
     * The probe's script as a file (multiprocessing needs a real file as {@code __main__}), extracted once per JVM
     * into one folder beside {@value #LIBRARY}, the helpers every probe imports.
     */
    static Path extract(String probe) {
        return EXTRACTED.computeIfAbsent(probe, name -> {
            try {
                return extract(name, extractionDir());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract probe " + name, e);
            }
        });
    }

    private static synchronized Path extractionDir() throws IOException {
        if (extractionDir == null) {
            Path dir = Files.createTempDirectory("conclab-probes-");
            dir.toFile().deleteOnExit();
            extract(LIBRARY, dir);
            extractionDir = dir;
        }
        return extractionDir;
    }

    private static Path extract(String name, Path dir) throws IOException {
        try (InputStream in = ProbeProcess.class.getResourceAsStream("/probes/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no probe named " + name + " under probes/");
            }
            Path file = dir.resolve(name);
            Files.copy(in, file);
            file.toFile().deleteOnExit();
            return file;
        }
    }
}
