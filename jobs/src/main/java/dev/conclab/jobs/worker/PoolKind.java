package dev.conclab.jobs.worker;

/**
 * How a worker runs task bodies: Celery's execution pools, on the JVM.
 *
 * <ul>
 *   <li>{@link #VTHREADS}: a new virtual thread per task, at most {@code concurrency} at once (a semaphore);
 *   Celery's {@code gevent}/{@code eventlet} counterpart, without monkey-patching: blocking calls unmount the
 *   virtual thread.</li>
 *   <li>{@link #THREADS}: platform threads, {@code concurrency} of them kept alive (Celery's {@code threads}
 *   pool). A task abandoned at its hard limit keeps its thread until the body heeds the interrupt; a new thread
 *   takes its slot meanwhile.</li>
 *   <li>{@link #PROCESSES}: the toolkit's {@code ProcessPool}, {@code concurrency} child JVMs (Celery's
 *   {@code prefork}); a task past its soft or hard limit, or revoked, is stopped by killing its child, which the
 *   pool replaces. Needs the registry as a {@code Supplier<TaskRegistry>} class the children can load.</li>
 * </ul>
 */
public enum PoolKind {
    VTHREADS, THREADS, PROCESSES;

    /** Parses {@code vthreads}, {@code threads} or {@code processes}, any case. */
    public static PoolKind parse(String text) {
        for (PoolKind kind : values()) {
            if (kind.name().equalsIgnoreCase(text.strip())) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown pool '" + text + "'; expected vthreads, threads or processes");
    }
}
