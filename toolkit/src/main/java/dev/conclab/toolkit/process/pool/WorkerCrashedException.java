package dev.conclab.toolkit.process.pool;

/**
 * The worker process running a task died (crashed, was killed, or broke the wire) before it returned the
 * result. The pool has replaced the worker; other tasks are not affected. Reaches callers as the cause of an
 * {@link java.util.concurrent.ExecutionException} or {@link java.util.concurrent.CompletionException}.
 */
public final class WorkerCrashedException extends Exception {

    private final long pid;
    private final int exitStatus;

    /** The worker {@code pid} ended with {@code exitStatus} (-1 when unknown) while running {@code what}. */
    public WorkerCrashedException(long pid, int exitStatus, String what, Throwable cause) {
        super("worker pid " + pid + " " + describe(exitStatus) + " while running " + what, cause);
        this.pid = pid;
        this.exitStatus = exitStatus;
    }

    /** An exception with its own {@code message} about worker {@code pid}, for failures other than a death. */
    public WorkerCrashedException(String message, long pid, int exitStatus, Throwable cause) {
        super(message, cause);
        this.pid = pid;
        this.exitStatus = exitStatus;
    }

    /** The process id of the worker that died. */
    public long pid() {
        return pid;
    }

    /** Its exit status as {@link Process#exitValue()} reports it (128 + n for signal n on Unix), or -1. */
    public int exitStatus() {
        return exitStatus;
    }

    private static String describe(int status) {
        if (status < 0) {
            return "stopped answering (exit status unknown)";
        }
        if (status > 128 && status < 128 + 65) {
            int signal = status - 128;
            String name = switch (signal) {
                case 9 -> " (SIGKILL)";
                case 15 -> " (SIGTERM)";
                case 6 -> " (SIGABRT)";
                case 11 -> " (SIGSEGV)";
                default -> "";
            };
            return "exited with status " + status + ", killed by signal " + signal + name;
        }
        return "exited with status " + status;
    }
}
