package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.probe.ProbeException;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Python 3 interpreters on this machine, and what each says about its GIL.
 *
 * <p>Looks for executables named {@code python3}, {@code python3.N} or {@code python3.Nt} in every folder of the
 * {@code PATH}, in {@code /usr/bin} and {@code /usr/local/bin}, and in pyenv's installed versions
 * ({@code $PYENV_ROOT/versions/*}{@code /bin}, by default under {@code ~/.pyenv}). pyenv's {@code shims} folder is
 * skipped: its entries are launchers that only work for the active version, which the versions folder already
 * holds. Links to the same file count once.
 *
 * <p>Stateless; each call asks the interpreters afresh, all at once, as child processes of the run, and blocks
 * until every one has answered or timed out.
 */
final class PythonBuilds {

    private static final Pattern NAME = Pattern.compile("python3(\\.(\\d+))?(t)?");
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+).*");

    /** What one interpreter said about itself ({@code gil_builds.py --mode info}). */
    record Build(Path path, String version, String implementation, Optional<Integer> gilDisabledBuild,
                 Optional<Boolean> gilEnabled, Optional<String> subinterpreters) {

        /** A free-threaded build: {@code Py_GIL_DISABLED} is 1. */
        boolean freeThreaded() {
            return gilDisabledBuild.orElse(0) == 1;
        }

        boolean cpython() {
            return "CPython".equals(implementation);
        }

        /** Minor version of Python 3 ({@code 12} for 3.12.1), or -1 when the version is not 3.x. */
        int minor() {
            Matcher m = VERSION.matcher(version);
            return m.matches() && m.group(1).equals("3") ? Integer.parseInt(m.group(2)) : -1;
        }
    }

    /** An interpreter that could not be asked, and why. */
    record Broken(Path path, String reason) {
    }

    /** Every interpreter found: those that answered, and those that did not. */
    record Found(List<Build> builds, List<Broken> broken) {
    }

    private PythonBuilds() {
    }

    /** Finds the interpreters and asks each one; {@code timeout} bounds each question. */
    static Found find(RunContext ctx, Duration timeout) throws InterruptedException {
        // Asked all at once: each answer is mostly interpreter start-up, and nothing here is timed.
        List<Path> candidates = candidates();
        List<Future<JsonNode>> answers = new ArrayList<>();
        try (ExecutorService askers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Path candidate : candidates) {
                answers.add(askers.submit(() -> RuntimeScripts.run(ctx, List.of(candidate.toString()),
                        "gil_builds.py", Map.of(), timeout, "--mode", "info")));
            }
        }
        List<Build> builds = new ArrayList<>();
        List<Broken> broken = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            try {
                builds.add(build(candidates.get(i), answers.get(i).get()));
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ProbeException failed)) {
                    throw new IllegalStateException("asking " + candidates.get(i) + " failed", e.getCause());
                }
                broken.add(new Broken(candidates.get(i), failed.getMessage()));
            }
        }
        builds.sort(Comparator.comparingInt(Build::minor).reversed());
        return new Found(builds, broken);
    }

    static Build build(Path path, JsonNode info) {
        return new Build(path, info.path("python").asText(), info.path("implementation").asText(),
                info.path("gil_disabled_build").isNumber()
                        ? Optional.of(info.path("gil_disabled_build").asInt()) : Optional.empty(),
                info.path("gil_enabled").isBoolean()
                        ? Optional.of(info.path("gil_enabled").asBoolean()) : Optional.empty(),
                info.path("subinterpreters").isTextual()
                        ? Optional.of(info.path("subinterpreters").asText()) : Optional.empty());
    }

    /** The folders of the PATH, then /usr/bin and /usr/local/bin, in that order, each once. */
    static Set<Path> searchFolders() {
        Set<Path> folders = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    folders.add(Path.of(dir));
                }
            }
        }
        folders.add(Path.of("/usr/bin"));
        folders.add(Path.of("/usr/local/bin"));
        return folders;
    }

    /** Candidate executables, one per real file, in search order. */
    static List<Path> candidates() {
        Set<Path> folders = searchFolders();
        folders.addAll(pyenvFolders());
        Map<Path, Path> byRealFile = new LinkedHashMap<>();
        for (Path folder : folders) {
            if (folder.getFileName() != null && folder.getFileName().toString().equals("shims")) {
                continue;
            }
            for (Path file : pythons(folder)) {
                try {
                    byRealFile.putIfAbsent(file.toRealPath(), file);
                } catch (IOException e) {
                    // a dangling link: nothing to run
                }
            }
        }
        return List.copyOf(byRealFile.values());
    }

    private static List<Path> pyenvFolders() {
        String root = System.getenv("PYENV_ROOT");
        Path versions = (root != null && !root.isBlank() ? Path.of(root)
                : Path.of(System.getProperty("user.home"), ".pyenv")).resolve("versions");
        List<Path> bins = new ArrayList<>();
        if (Files.isDirectory(versions)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(versions)) {
                for (Path dir : dirs) {
                    bins.add(dir.resolve("bin"));
                }
            } catch (IOException e) {
                return List.of();
            }
        }
        bins.sort(Comparator.naturalOrder());
        return bins;
    }

    private static List<Path> pythons(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder,
                f -> NAME.matcher(f.getFileName().toString()).matches())) {
            for (Path file : files) {
                if (Files.isRegularFile(file) && Files.isExecutable(file)) {
                    found.add(file);
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        found.sort(Comparator.naturalOrder());
        return found;
    }
}
