package dev.conclab.toolkit.shutdown;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one {@link Shutdown#shutdown(Duration)} did: how long each phase took, and the fate of every registered
 * hook, executor, thread and process. Immutable; safe to share.
 *
 * <p>Nothing is left out: every registered thing has exactly one entry, and work that was accepted but never
 * started is listed ({@link ExecutorResult#neverStarted()}), so a caller can account for every task it submitted.
 *
 * @param deadline   the deadline the shutdown was given for draining
 * @param phases     each phase that ran, in order, with its duration
 * @param hooks      the stop-accepting hooks, in registration order
 * @param executors  the executors, in registration order
 * @param threads    the threads, in registration order
 * @param processes  the processes, in registration order
 */
public record ShutdownReport(Duration deadline, List<PhaseTime> phases, List<HookResult> hooks,
                             List<ExecutorResult> executors, List<ThreadResult> threads,
                             List<ProcessResult> processes) {

    public ShutdownReport {
        Objects.requireNonNull(deadline, "deadline");
        phases = List.copyOf(phases);
        hooks = List.copyOf(hooks);
        executors = List.copyOf(executors);
        threads = List.copyOf(threads);
        processes = List.copyOf(processes);
    }

    /** The phases of a shutdown, in the order they run. */
    public enum Phase {
        /** Stop-accepting hooks run, then {@code shutdown()} on every executor. */
        STOP_ACCEPTING,
        /** Waiting, until the deadline, for executors to terminate, threads to end and processes to exit. */
        DRAIN,
        /** {@code shutdownNow()} and {@code interrupt()} on what is left, then a short grace. */
        INTERRUPT,
        /** {@code destroy()} on live processes and their descendants, then {@code destroyForcibly()} after a grace. */
        TERMINATE_PROCESSES
    }

    /** How long one phase took. */
    public record PhaseTime(Phase phase, Duration took) {
    }

    /** A stop-accepting hook and the exception it threw, if any. */
    public record HookResult(String name, Optional<Exception> failure) {
    }

    /** How an executor or a thread ended. */
    public enum Fate {
        /** Ended on its own before the deadline. */
        FINISHED,
        /** Still running at the deadline; ended after it was interrupted. */
        ENDED_AFTER_INTERRUPT,
        /** Still running after interrupt and grace: its work ignores interrupts. It is left running. */
        ABANDONED,
        /** A registered thread that was never started. */
        NEVER_STARTED
    }

    /**
     * An executor's fate, and the tasks it had accepted but never started (returned by {@code shutdownNow()}; empty
     * when the executor drained before the deadline).
     */
    public record ExecutorResult(String name, Fate fate, List<Runnable> neverStarted) {
        public ExecutorResult {
            neverStarted = List.copyOf(neverStarted);
        }
    }

    /** A thread's fate. */
    public record ThreadResult(String name, Fate fate) {
    }

    /** How a process ended. */
    public enum ProcessFate {
        /** Exited on its own before the deadline. */
        EXITED,
        /** Exited after a normal termination request ({@code SIGTERM} on Unix). */
        TERMINATED,
        /** Was forcibly killed ({@code SIGKILL} on Unix) after ignoring the termination request for the grace. */
        KILLED,
        /** Still alive even after {@code destroyForcibly()}: the operating system refused or was too slow. */
        SURVIVED
    }

    /**
     * A process's fate, and the descendants it had when termination began (each was sent the same requests).
     *
     * @param descendantsAlive descendants still alive when this report was made (normally zero)
     */
    public record ProcessResult(String name, long pid, ProcessFate fate, List<Long> descendants,
                                int descendantsAlive) {
        public ProcessResult {
            descendants = List.copyOf(descendants);
        }
    }

    /** The duration of {@code phase}, or zero when it did not run. */
    public Duration took(Phase phase) {
        return phases.stream().filter(p -> p.phase() == phase).map(PhaseTime::took).findFirst()
                .orElse(Duration.ZERO);
    }

    /** The total time of the shutdown. */
    public Duration total() {
        return phases.stream().map(PhaseTime::took).reduce(Duration.ZERO, Duration::plus);
    }

    /** The number of tasks accepted by executors but never started. */
    public int neverStartedCount() {
        return executors.stream().mapToInt(e -> e.neverStarted().size()).sum();
    }

    /** The names of executors and threads still running (abandoned) and processes that survived. */
    public List<String> abandoned() {
        List<String> names = new ArrayList<>();
        executors.stream().filter(e -> e.fate() == Fate.ABANDONED).forEach(e -> names.add(e.name()));
        threads.stream().filter(t -> t.fate() == Fate.ABANDONED).forEach(t -> names.add(t.name()));
        processes.stream().filter(p -> p.fate() == ProcessFate.SURVIVED || p.descendantsAlive() > 0)
                .forEach(p -> names.add(p.name()));
        return List.copyOf(names);
    }

    /** Whether everything ended within the deadline: no interrupt, no abandoned or unstarted work, no kill. */
    public boolean clean() {
        return executors.stream().allMatch(e -> e.fate() == Fate.FINISHED)
                && threads.stream().allMatch(t -> t.fate() == Fate.FINISHED || t.fate() == Fate.NEVER_STARTED)
                && processes.stream().allMatch(p -> p.fate() == ProcessFate.EXITED)
                && hooks.stream().allMatch(h -> h.failure().isEmpty());
    }

    /** A few lines for a log: one per phase, then one per registered thing that did not finish cleanly. */
    public String describe() {
        StringBuilder out = new StringBuilder("shutdown (deadline " + deadline.toMillis() + " ms):");
        phases.forEach(p -> out.append("\n  ").append(p.phase()).append(": ").append(p.took().toMillis())
                .append(" ms"));
        hooks.forEach(h -> h.failure().ifPresent(e -> out.append("\n  hook ").append(h.name()).append(" failed: ")
                .append(e)));
        executors.forEach(e -> out.append("\n  executor ").append(e.name()).append(": ").append(e.fate())
                .append(", ").append(e.neverStarted().size()).append(" never started"));
        threads.forEach(t -> out.append("\n  thread ").append(t.name()).append(": ").append(t.fate()));
        processes.forEach(p -> out.append("\n  process ").append(p.name()).append(" (pid ").append(p.pid())
                .append("): ").append(p.fate()).append(", ").append(p.descendants().size()).append(" descendants"));
        return out.toString();
    }
}
