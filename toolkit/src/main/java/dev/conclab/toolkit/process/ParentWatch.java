package dev.conclab.toolkit.process;

import java.util.Optional;

/**
 * Makes a child process exit when its parent process ends, however the parent ended (even {@code kill -9}),
 * so that no worker is left behind as an orphan.
 *
 * <p>The watch is one daemon thread waiting on the parent's {@link ProcessHandle#onExit()}; for a process that is
 * not our child the JDK notices the exit by polling, so the child exits within about a second of its parent.
 * The child then halts with {@link Runtime#halt(int)}: shutdown hooks do not run, because the work they would do
 * was for a parent that no longer listens.
 */
public final class ParentWatch {

    /** The exit status of a child that outlived its parent. */
    public static final int ORPHANED_EXIT_STATUS = 3;

    private ParentWatch() {
    }

    /**
     * Starts the watch for the current process; returns at once. Does nothing when the process has no
     * parent it can see (for example when the parent is already gone, in which case it halts now).
     */
    public static void exitWithParent() {
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parent.isEmpty() || !parent.get().isAlive()) {
            Runtime.getRuntime().halt(ORPHANED_EXIT_STATUS);
            return;
        }
        parent.get().onExit().thenRun(() -> Runtime.getRuntime().halt(ORPHANED_EXIT_STATUS));
    }
}
