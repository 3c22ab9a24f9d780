package dev.conclab.lab.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.engine.RunContext;

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
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs CPython probes for one experiment run: finds an interpreter with the needed modules, runs the probe
 * script with a timeout as a child process of the run (so cancelling the run kills it and its workers), and
 * parses the one JSON object it prints.
 *
 * <p>Blocks the calling thread until the probe exits or times out. Thread-safe.
 */
public final class PythonProbes {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The module of helpers that probes import; it is extracted beside every probe. */
    static final String LIBRARY = "probelib.py";
    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();
    private static Path extractionDir;

    private final RunContext ctx;
    private final InterpreterFinder finder;

    public PythonProbes(RunContext ctx, InterpreterFinder finder) {
        this.ctx = ctx;
        this.finder = finder;
    }

    /**
     * How many interleaved runs a probe's timing should take the best of. Pure-Python loops are memory-heavy and
     * swing by 15–30% from one run to the next on shared virtual machines, so probes take the best of more and
     * shorter runs than the JVM side does (11 in quick mode, 15 otherwise).
     */
    public static int repeats(RunContext ctx) {
        return ctx.quick() ? 11 : 15;
    }

    /** Probes for {@code ctx} with this machine's interpreters. */
    public static PythonProbes of(RunContext ctx) {
        return new PythonProbes(ctx, InterpreterFinder.system());
    }

    /**
     * Runs {@code probes/<probe>} with {@code args}.
     *
     * @param modules the modules the probe imports beyond the standard library
     * @return the JSON it printed, or why it could not run here
     * @throws ProbeException when the probe ran but crashed, timed out or printed no JSON object
     */
    public ProbeOutcome run(String probe, List<String> modules, Duration timeout, String... args)
            throws InterruptedException {
        return switch (finder.find(modules)) {
            case InterpreterFinder.Found.No(String reason) -> new ProbeOutcome.Unavailable(reason);
            case InterpreterFinder.Found.Yes(Interpreter interpreter) -> run(interpreter, probe, timeout, args);
        };
    }

    private ProbeOutcome.Ran run(Interpreter interpreter, String probe, Duration timeout, String... args)
            throws InterruptedException {
        ctx.checkCancelled();
        List<String> command = new ArrayList<>(List.of(interpreter.path().toString(), script(probe).toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        builder.environment().put("PYTHONIOENCODING", "utf-8");
        long start = System.nanoTime();
        // The JDK dates a process from the boot time, which Linux gives in whole seconds: allow for that error.
        Instant startedAt = Instant.now().minusSeconds(2);
        Process process;
        try {
            process = ctx.children().start(builder);
        } catch (IOException e) {
            throw new ProbeException("cannot start " + interpreter + " for probe " + probe + ": " + e.getMessage(), e);
        }
        var readers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<String> out = readers.submit(() -> read(process.getInputStream()));
            Future<String> err = readers.submit(() -> read(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ProbeException("probe " + probe + " timed out after " + timeout.toSeconds() + " s");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // Whatever the probe left running would hold its output open: the probe is done, so they go too.
            killOrphans(script(probe), startedAt);
            String stdout = get(out);
            if (process.exitValue() != 0) {
                throw new ProbeException("probe " + probe + " exited with status " + process.exitValue() + ": "
                        + tail(get(err)));
            }
            try {
                JsonNode json = JSON.readTree(stdout);
                if (json == null || !json.isObject()) {
                    throw new ProbeException("probe " + probe + " printed no JSON object: " + tail(stdout));
                }
                ctx.usedPython(interpreter.version());
                return new ProbeOutcome.Ran(json, interpreter, seconds);
            } catch (IOException e) {
                throw new ProbeException("probe " + probe + " printed invalid JSON: " + tail(stdout), e);
            }
        } finally {
            // Kill first, then wait for the readers: they end when every process holding the pipes has gone.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            killOrphans(script(probe), startedAt);
            readers.close();
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
    private static Path script(String probe) {
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
        try (InputStream in = PythonProbes.class.getResourceAsStream("/probes/" + name)) {
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
