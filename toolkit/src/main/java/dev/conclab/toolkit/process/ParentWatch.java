package dev.conclab.toolkit.process;

import java.time.Instant;
import java.util.Optional;

/**
 * Makes a child process exit when its parent process ends, however the parent ended (even {@code kill -9}),
 * so that no worker is left behind as an orphan.
 *
 * <p>The parent is the process named by the system property {@value #PARENT_PROPERTY} ({@code pid:startMillis},
 * which {@link JvmLauncher} sets), else the process's current parent. Naming the parent explicitly closes a race:
 * a parent killed while the child JVM is still starting has already been replaced by init as the child's parent,
 * and the start time tells a reused pid from the original parent.
 *
 * <p>The watch is one daemon thread waiting on the parent's {@link ProcessHandle#onExit()}; for a process that is
 * not its parent's child the JDK notices the exit by polling, so the child exits within about a second of its
 * parent. The child then halts with {@link Runtime#halt(int)}: shutdown hooks do not run, because the work they
 * would do was for a parent that no longer listens.
 */
public final class ParentWatch {

    /** The system property naming the parent to watch, as {@code pid:startMillis}. */
    public static final String PARENT_PROPERTY = "conclab.parent";

    /** The exit status of a child that outlived its parent. */
    public static final int ORPHANED_EXIT_STATUS = 3;

    private ParentWatch() {
    }

    /**
     * Starts the watch for the current process and returns at once; halts the process now when the parent is
     * already gone.
     */
    public static void exitWithParent() {
        Optional<ProcessHandle> parent = parent();
        if (parent.isEmpty() || !parent.get().isAlive()) {
            Runtime.getRuntime().halt(ORPHANED_EXIT_STATUS);
            return;
        }
        parent.get().onExit().thenRun(() -> Runtime.getRuntime().halt(ORPHANED_EXIT_STATUS));
    }

    /** The {@value #PARENT_PROPERTY} value that names the current process as a child's parent. */
    static String describe(ProcessHandle process) {
        long start = process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        return process.pid() + ":" + start;
    }

    private static Optional<ProcessHandle> parent() {
        String named = System.getProperty(PARENT_PROPERTY);
        if (named == null || named.isBlank()) {
            return ProcessHandle.current().parent();
        }
        String[] parts = named.split(":");
        long pid = Long.parseLong(parts[0]);
        long start = parts.length > 1 ? Long.parseLong(parts[1]) : 0;
        return ProcessHandle.of(pid).filter(p -> start == 0 || p.info().startInstant()
                .map(Instant::toEpochMilli).orElse(start) == start);
    }
}
