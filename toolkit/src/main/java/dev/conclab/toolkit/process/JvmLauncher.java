package dev.conclab.toolkit.process;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds the command that runs a main class of the current class path in a fresh JVM: the same {@code java}
 * executable as this process, the same class path, and the extra JVM options given.
 *
 * <p><b>Thread safety:</b> instances are immutable and may be shared. {@link #start} does not wait for the child;
 * the caller owns the returned {@link Process} and must wait for it or destroy it.
 *
 * <p>A child started here does not notice on its own when its parent dies; a child main that must not outlive
 * its parent calls {@link ParentWatch#exitWithParent()} first. The command names this process as the child's
 * parent (the {@value ParentWatch#PARENT_PROPERTY} property), so that watch holds even when this process dies
 * before the child's JVM has finished starting.
 */
public final class JvmLauncher {

    private final Path java;
    private final String classPath;
    private final List<String> jvmOptions;

    private JvmLauncher(Path java, String classPath, List<String> jvmOptions) {
        this.java = java;
        this.classPath = classPath;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** A launcher for this JVM's own {@code java} executable and class path, with no extra options. */
    public static JvmLauncher ofCurrentJvm() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (!Files.isExecutable(java)) {
            throw new IllegalStateException("no java executable at " + java);
        }
        return new JvmLauncher(java, System.getProperty("java.class.path"), List.of());
    }

    /** A copy of this launcher that also passes the given JVM options (for example {@code -Xmx64m}). */
    public JvmLauncher withOptions(String... options) {
        List<String> all = new ArrayList<>(jvmOptions);
        all.addAll(List.of(options));
        return new JvmLauncher(java, classPath, all);
    }

    /**
     * A copy of this launcher whose child uses {@code dir} as its {@code java.io.tmpdir}. A JVM deletes its own temp
     * files ({@code deleteOnExit}, sqlite-jdbc's copy of its native library) only when it exits normally; a child
     * that may be killed with SIGKILL gets a directory its parent owns and deletes once the child is dead, so a
     * kill leaves nothing in the shared temp directory.
     *
     * @throws IllegalArgumentException if {@code dir} is not an existing directory
     */
    public JvmLauncher withTempDir(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("the child's temp directory " + dir + " is not an existing directory");
        }
        return withOptions("-Djava.io.tmpdir=" + dir.toAbsolutePath());
    }

    /** The full command line that runs {@code mainClass} with {@code args}. */
    public List<String> command(Class<?> mainClass, String... args) {
        Objects.requireNonNull(mainClass, "mainClass");
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        // Before the caller's options, so that an explicit -Dconclab.parent given to withOptions wins.
        command.add("-D" + ParentWatch.PARENT_PROPERTY + "=" + ParentWatch.describe(ProcessHandle.current()));
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    /**
     * Starts {@code mainClass} in a new JVM. Standard error is inherited, so a crash in the child is visible;
     * standard input and output are pipes the caller reads and writes through the returned process.
     */
    public Process start(Class<?> mainClass, String... args) throws java.io.IOException {
        return new ProcessBuilder(command(mainClass, args))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** The class path children run with, as separate entries. */
    public List<String> classPathEntries() {
        return List.of(classPath.split(File.pathSeparator));
    }
}
