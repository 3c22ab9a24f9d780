package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.probe.ProbeException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a probe script under any Python runtime, not just the CPython {@link dev.conclab.lab.probe.PythonProbes}
 * picks: a CPython of another version or build (3.13t, 3.12), PyPy, or Jython. The script (and
 * {@code probelib.py}, which CPython and PyPy probes import) is extracted once per JVM into one folder.
 *
 * <p>Blocks the caller until the process exits or times out. Each process is a child of the run
 * ({@link RunContext#children()}), so cancelling the run kills it. Thread-safe.
 */
final class RuntimeScripts {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path folder;

    private RuntimeScripts() {
    }

    /**
     * Runs {@code launcher} (the executable and any options it takes before the script), then the script
     * {@code probes/<script>}, then {@code args}, with {@code env} added to the environment.
     *
     * @return the one JSON object the script printed
     * @throws ProbeException when the process cannot start, fails, times out or prints no JSON object
     */
    static JsonNode run(RunContext ctx, List<String> launcher, String script, Map<String, String> env,
                        Duration timeout, String... args) throws InterruptedException {
        ctx.checkCancelled();
        List<String> command = new ArrayList<>(launcher);
        command.add(extract(script).toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        builder.environment().put("PYTHONIOENCODING", "utf-8");
        builder.environment().putAll(env);
        String name = String.join(" ", launcher) + " " + script;
        Process process;
        try {
            process = ctx.children().start(builder);
        } catch (IOException e) {
            throw new ProbeException("cannot start " + name + ": " + e.getMessage(), e);
        }
        try (var readers = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> out = readers.submit(() -> read(process.getInputStream()));
            Future<String> err = readers.submit(() -> read(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new ProbeException(name + " timed out after " + timeout.toSeconds() + " s");
            }
            String stdout = get(out);
            if (process.exitValue() != 0) {
                throw new ProbeException(name + " exited with status " + process.exitValue() + ": " + tail(get(err)));
            }
            try {
                JsonNode json = JSON.readTree(stdout);
                if (json == null || !json.isObject()) {
                    throw new ProbeException(name + " printed no JSON object: " + tail(stdout));
                }
                return json;
            } catch (IOException e) {
                throw new ProbeException(name + " printed invalid JSON: " + tail(stdout), e);
            }
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
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

    /** The script as a file beside {@code probelib.py}, extracted on first use. */
    private static synchronized Path extract(String script) {
        try {
            if (folder == null) {
                Path dir = Files.createTempDirectory("conclab-runtimes-");
                dir.toFile().deleteOnExit();
                copy("probelib.py", dir);
                folder = dir;
            }
            Path file = folder.resolve(script);
            return Files.exists(file) ? file : copy(script, folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract probe " + script, e);
        }
    }

    private static Path copy(String name, Path dir) throws IOException {
        try (InputStream in = RuntimeScripts.class.getResourceAsStream("/probes/" + name)) {
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
