package dev.conclab.jobs.task;

/**
 * What a running task body may ask of the worker running it. An instance belongs to one attempt of one task and is
 * used by the thread running its body; its methods are safe to call from any thread.
 *
 * <p>Cancellation is cooperative, as everywhere in Java: a soft time limit, a revocation and a graceful shutdown
 * past its deadline interrupt the body's thread; a body that blocks in interruptible calls ({@code sleep},
 * {@code wait}, I/O on interruptible channels) stops by itself, a CPU-bound body should call
 * {@link #checkInterrupted()} now and then.
 */
public interface TaskContext {

    /** The task's id. */
    String taskId();

    /** The attempt running: 0 for the first, incremented by each retry (not by a redelivery after a crash). */
    int attempt();

    /** How many times this task's message was delivered (1 unless a worker died holding it). */
    int deliveries();

    /** Whether the task was revoked while running (as last polled by the worker). */
    boolean revoked();

    /**
     * Throws {@link InterruptedException} if the body's thread was interrupted (soft limit, revocation, shutdown)
     * or the task was revoked; clears the interrupt status as {@link Thread#interrupted()} does.
     */
    default void checkInterrupted() throws InterruptedException {
        if (Thread.interrupted() || revoked()) {
            throw new InterruptedException("task " + taskId() + " interrupted");
        }
    }

    /** A context with fixed answers, for a body run outside a worker (a child process, a test). */
    static TaskContext of(String taskId, int attempt, int deliveries) {
        record Fixed(String taskId, int attempt, int deliveries) implements TaskContext {
            @Override
            public boolean revoked() {
                return false;
            }
        }
        return new Fixed(taskId, attempt, deliveries);
    }
}
