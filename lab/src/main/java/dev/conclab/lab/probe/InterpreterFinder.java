package dev.conclab.lab.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Finds a CPython interpreter that has the modules a probe needs.
 *
 * <p>With an override (the {@code CONCLAB_PYTHON} variable) only that interpreter is considered. Otherwise the
 * candidates are tried in order and the first with every module wins. What each interpreter has is asked once
 * and cached.
 *
 * <p><b>Thread safety:</b> safe for concurrent use.
 */
public final class InterpreterFinder {

    private static final String INSPECT = """
            import importlib.util, json, platform, sys
            print(json.dumps({"version": platform.python_version(),
                              "implementation": platform.python_implementation(),
                              "missing": [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]}))
            """;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final InterpreterFinder SYSTEM = new InterpreterFinder(
            Optional.ofNullable(System.getenv("CONCLAB_PYTHON")).filter(s -> !s.isBlank()), defaultCandidates());

    private final Optional<String> override;
    private final List<Path> candidates;
    private final Map<String, Optional<Inspection>> inspected = new ConcurrentHashMap<>();

    /** What asking an interpreter found. */
    private record Inspection(Interpreter interpreter, Set<String> missing) {
    }

    /** The result of a search: an interpreter, or why none qualified. */
    public sealed interface Found permits Found.Yes, Found.No {
        record Yes(Interpreter interpreter) implements Found {
        }

        record No(String reason) implements Found {
        }
    }

    public InterpreterFinder(Optional<String> override, List<Path> candidates) {
        this.override = override;
        this.candidates = List.copyOf(candidates);
    }

    /** The finder for this machine: {@code CONCLAB_PYTHON}, else the system's {@code python3} interpreters. */
    public static InterpreterFinder system() {
        return SYSTEM;
    }

    /** {@code /usr/bin/python3} first (Debian's packages live there), then each {@code python3} on the PATH. */
    static List<Path> defaultCandidates() {
        Set<Path> paths = new LinkedHashSet<>();
        paths.add(Path.of("/usr/bin/python3"));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    paths.add(Path.of(dir, "python3"));
                }
            }
        }
        return List.copyOf(paths);
    }

    /** The first interpreter that has every one of {@code modules}. */
    public Found find(List<String> modules) {
        if (override.isPresent()) {
            Optional<Inspection> inspection = inspect(override.get(), modules);
            if (inspection.isEmpty()) {
                return new Found.No("CONCLAB_PYTHON=" + override.get() + " is not a runnable Python interpreter");
            }
            return verdict(inspection.get(), modules, "CONCLAB_PYTHON=" + override.get());
        }
        List<String> tried = new ArrayList<>();
        for (Path candidate : candidates) {
            if (!Files.isExecutable(candidate)) {
                continue;
            }
            Optional<Inspection> inspection = inspect(candidate.toString(), modules);
            if (inspection.isEmpty()) {
                continue;
            }
            Found found = verdict(inspection.get(), modules, candidate.toString());
            if (found instanceof Found.Yes) {
                return found;
            }
            tried.add(((Found.No) found).reason());
        }
        if (tried.isEmpty()) {
            return new Found.No("no CPython interpreter found (looked for python3 in /usr/bin and on the PATH;"
                    + " set CONCLAB_PYTHON to choose one)");
        }
        return new Found.No(String.join("; ", tried));
    }

    private static Found verdict(Inspection inspection, List<String> modules, String where) {
        if (!"CPython".equals(inspection.interpreter().implementation())) {
            return new Found.No(where + " is " + inspection.interpreter().implementation() + ", not CPython");
        }
        List<String> missing = modules.stream().filter(inspection.missing()::contains).toList();
        if (!missing.isEmpty()) {
            return new Found.No(where + " (Python " + inspection.interpreter().version() + ") lacks "
                    + String.join(", ", missing));
        }
        return new Found.Yes(inspection.interpreter());
    }

    private Optional<Inspection> inspect(String executable, List<String> modules) {
        String key = executable + " " + String.join(",", modules);
        return inspected.computeIfAbsent(key, k -> ask(executable, modules));
    }

    private static Optional<Inspection> ask(String executable, List<String> modules) {
        List<String> command = new ArrayList<>(List.of(executable, "-c", INSPECT));
        command.addAll(modules);
        Process process = null;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(20, TimeUnit.SECONDS) || process.exitValue() != 0) {
                return Optional.empty();
            }
            JsonNode json = JSON.readTree(new String(out, StandardCharsets.UTF_8));
            Set<String> missing = new LinkedHashSet<>();
            json.path("missing").forEach(m -> missing.add(m.asText()));
            Path real = Path.of(executable);
            return Optional.of(new Inspection(new Interpreter(real, json.path("version").asText(),
                    json.path("implementation").asText()), missing));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            if (process != null) {
                process.destroyForcibly();
            }
        }
    }
}
