package dev.conclab.toolkit.shutdown;

import dev.conclab.toolkit.shutdown.ShutdownReport.ExecutorResult;
import dev.conclab.toolkit.shutdown.ShutdownReport.Fate;
import dev.conclab.toolkit.shutdown.ShutdownReport.HookResult;
import dev.conclab.toolkit.shutdown.ShutdownReport.Phase;
import dev.conclab.toolkit.shutdown.ShutdownReport.PhaseTime;
import dev.conclab.toolkit.shutdown.ShutdownReport.ProcessFate;
import dev.conclab.toolkit.shutdown.ShutdownReport.ProcessResult;
import dev.conclab.toolkit.shutdown.ShutdownReport.ThreadResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Coordinates a graceful shutdown of everything registered with it: stop-accepting hooks (close a server socket,
 * stop a consumer), {@link ExecutorService}s, plain {@link Thread}s and child processes with their descendants.
 *
 * <p>{@link #shutdown(Duration) shutdown(deadline)} runs four phases, each bounded:
 * <ol>
 *   <li><b>Stop accepting.</b> The hooks run in registration order, then every executor gets
 *       {@link ExecutorService#shutdown()}: no new work gets in, and work already accepted keeps going.</li>
 *   <li><b>Drain.</b> Until {@code deadline} after the call began: wait for executors to terminate, threads to end
 *       and processes to exit on their own.</li>
 *   <li><b>Interrupt.</b> What is left is asked to stop: {@link ExecutorService#shutdownNow()} (which interrupts
 *       running tasks and hands back the queued ones, never started) and {@link Thread#interrupt()}; then a short
 *       grace ({@code interruptGrace}). Whatever still runs after it ignores interrupts: it is reported
 *       {@linkplain Fate#ABANDONED abandoned} and left running, since Java has no safe way to kill a thread.</li>
 *   <li><b>Terminate processes.</b> Each live process and its descendants (listed before any is signalled, so a
 *       dying parent cannot orphan them unseen; signalled before their root, so a live parent reaps them) get
 *       {@link ProcessHandle#destroy()} ({@code SIGTERM}), and after {@code processGrace} the survivors get
 *       {@link ProcessHandle#destroyForcibly()} ({@code SIGKILL}).</li>
 * </ol>
 * It returns a {@link ShutdownReport}: the time of each phase and the fate of every registered thing.
 *
 * <p><b>States.</b> The coordinator moves one way through:
 * <pre>
 *   OPEN ──shutdown()──▶ STOPPING ──hooks run, executors shut down──▶ DRAINING ──deadline or all ended──▶
 *   INTERRUPTING ──grace──▶ TERMINATING_PROCESSES ──grace──▶ TERMINATED
 * </pre>
 * Registration is allowed only while {@code OPEN}; afterwards it throws {@link IllegalStateException}, because a
 * thing registered mid-shutdown would miss the phases already run. Phases with nothing to do take no time.
 *
 * <p><b>Thread safety and idempotence.</b> All methods are safe to call from any thread. Only the first
 * {@code shutdown} call runs the phases; every other call, concurrent or later, waits for that one to finish and
 * returns the same report (its own deadline is ignored).
 *
 * <p><b>Blocking.</b> The first {@code shutdown} call blocks for at most about
 * {@code deadline + interruptGrace + processGrace + 2 s} plus the time the hooks take. If that caller is interrupted,
 * the remaining waits are cut short (the phases still run, in order, without waiting) and its interrupt status is
 * set again when it returns.
 *
 * <p><b>Memory effects.</b> Actions of a task that finished before its executor terminated, or of a thread before
 * it ended, happen-before {@code shutdown} returns ({@code awaitTermination} and {@code join} give that edge).
 *
 * <p><b>JVM exit.</b> {@link #installJvmHook} registers the shutdown as a JVM shutdown hook, so {@code SIGTERM},
 * {@code SIGINT} (Ctrl-C) and {@code System.exit} run it: the counterpart of a Python signal handler that sets a
 * {@code threading.Event} the workers check. A JVM hook that never ends keeps the JVM from exiting; this one is
 * bounded by the deadline and the graces. {@code SIGKILL} and {@link Runtime#halt} run no hook at all.
 */
public final class Shutdown {

    /** The coordinator's run states, in the only order they are entered. */
    public enum State { OPEN, STOPPING, DRAINING, INTERRUPTING, TERMINATING_PROCESSES, TERMINATED }

    /** What a stop-accepting hook runs: typically {@code serverSocket::close}. */
    @FunctionalInterface
    public interface StopAction {
        void run() throws Exception;
    }

    /** The default grace between interrupting and declaring work abandoned. */
    public static final Duration DEFAULT_INTERRUPT_GRACE = Duration.ofMillis(500);
    /** The default grace between {@code SIGTERM} and {@code SIGKILL}. */
    public static final Duration DEFAULT_PROCESS_GRACE = Duration.ofSeconds(2);

    /** How long a killed process is given to be reaped, so that "killed" means gone. */
    private static final Duration REAP_WAIT = Duration.ofSeconds(1);

    private record Named<T>(String name, T thing) {
    }

    private final Duration interruptGrace;
    private final Duration processGrace;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
    private final CompletableFuture<ShutdownReport> report = new CompletableFuture<>();
    // Guarded by this; read by the shutting-down thread only after the state left OPEN, so no more are added.
    private final List<Named<StopAction>> hooks = new ArrayList<>();
    private final List<Named<ExecutorService>> executors = new ArrayList<>();
    private final List<Named<Thread>> threads = new ArrayList<>();
    private final List<Named<ProcessHandle>> processes = new ArrayList<>();
    // Guarded by this.
    private Thread jvmHook;

    /** A coordinator with the default graces. */
    public Shutdown() {
        this(DEFAULT_INTERRUPT_GRACE, DEFAULT_PROCESS_GRACE);
    }

    /**
     * A coordinator with the given graces.
     *
     * @param interruptGrace how long interrupted work gets to end before it is reported abandoned (≥ 0)
     * @param processGrace   how long a process gets after {@code SIGTERM} before {@code SIGKILL} (≥ 0)
     */
    public Shutdown(Duration interruptGrace, Duration processGrace) {
        this.interruptGrace = nonNegative(interruptGrace, "interruptGrace");
        this.processGrace = nonNegative(processGrace, "processGrace");
    }

    /** Runs {@code action} first when the shutdown begins, to stop new work coming in. Returns this. */
    public Shutdown onStopAccepting(String name, StopAction action) {
        add(hooks, name, Objects.requireNonNull(action, "action"));
        return this;
    }

    /** Shuts {@code executor} down with the others. Returns it, for {@code var pool = shutdown.register(...)}. */
    public <E extends ExecutorService> E register(String name, E executor) {
        add(executors, name, Objects.requireNonNull(executor, "executor"));
        return executor;
    }

    /**
     * Waits for {@code thread}, then interrupts it. Returns it. If this thread itself calls {@link #shutdown}, it
     * is neither waited for nor interrupted, and is reported {@link Fate#ABANDONED}: it was still running.
     */
    public Thread register(String name, Thread thread) {
        add(threads, name, Objects.requireNonNull(thread, "thread"));
        return thread;
    }

    /** Waits for {@code process} to exit, then terminates it and its descendants. Returns it. */
    public Process register(String name, Process process) {
        add(processes, name, Objects.requireNonNull(process, "process").toHandle());
        return process;
    }

    /** Waits for {@code process} to exit, then terminates it and its descendants. Returns it. */
    public ProcessHandle register(String name, ProcessHandle process) {
        add(processes, name, Objects.requireNonNull(process, "process"));
        return process;
    }

    /** The current state. */
    public State state() {
        return state.get();
    }

    /** The report, once a shutdown has finished. */
    public Optional<ShutdownReport> report() {
        return Optional.ofNullable(report.getNow(null));
    }

    /**
     * Shuts everything down (see the class comment), or, if a shutdown has already begun, waits for it and returns
     * its report.
     *
     * @param deadline how long in-flight work may take to finish, counted from this call; must be positive
     * @throws InterruptedException only in a caller that waits for another caller's shutdown
     */
    public ShutdownReport shutdown(Duration deadline) throws InterruptedException {
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be positive, was " + deadline);
        }
        if (!state.compareAndSet(State.OPEN, State.STOPPING)) {
            try {
                return report.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("the first shutdown failed", e.getCause());
            }
        }
        try {
            ShutdownReport done = new Run(deadline).run();
            report.complete(done);
            return done;
        } catch (RuntimeException | Error e) {
            report.completeExceptionally(e);
            state.set(State.TERMINATED);
            throw e;
        }
    }

    /**
     * Registers {@code shutdown(deadline)} as a JVM shutdown hook (it runs on {@code SIGTERM}, {@code SIGINT} and
     * {@code System.exit}), then hands the report to {@code onDone} (for a log line). A shutdown that already ran
     * makes the hook a no-op that hands over the earlier report. Returns this.
     *
     * @throws IllegalStateException if a hook is already installed, or the JVM is already shutting down
     */
    public synchronized Shutdown installJvmHook(Duration deadline, Consumer<? super ShutdownReport> onDone) {
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(onDone, "onDone");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be positive, was " + deadline);
        }
        if (jvmHook != null) {
            throw new IllegalStateException("a JVM hook is already installed");
        }
        Thread hook = new Thread(() -> {
            try {
                onDone.accept(shutdown(deadline));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown-hook");
        Runtime.getRuntime().addShutdownHook(hook);
        jvmHook = hook;
        return this;
    }

    /** Removes the JVM hook installed by {@link #installJvmHook}; returns whether there was one. */
    public synchronized boolean uninstallJvmHook() {
        if (jvmHook == null) {
            return false;
        }
        boolean removed = Runtime.getRuntime().removeShutdownHook(jvmHook);
        jvmHook = null;
        return removed;
    }

    private <T> void add(List<Named<T>> list, String name, T thing) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        synchronized (this) {
            // Checked under the lock the shutting-down thread takes to copy the lists: nothing slips in after.
            if (state.get() != State.OPEN) {
                throw new IllegalStateException("cannot register " + name + ": shutdown already " + state.get());
            }
            list.add(new Named<>(name, thing));
        }
    }

    private static Duration nonNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + d);
        }
        return d;
    }

    /** One shutdown, run by the first caller's thread; not shared. */
    private final class Run {
        private final Duration deadline;
        private final long start = System.nanoTime();
        private final long drainEnd;
        private final List<PhaseTime> phases = new ArrayList<>();
        private final List<Named<StopAction>> hooks;
        private final List<Named<ExecutorService>> executors;
        private final List<Named<Thread>> threads;
        private final List<Named<ProcessHandle>> processes;
        private boolean interrupted;

        Run(Duration deadline) {
            this.deadline = deadline;
            this.drainEnd = start + deadline.toNanos();
            synchronized (Shutdown.this) {
                hooks = List.copyOf(Shutdown.this.hooks);
                executors = List.copyOf(Shutdown.this.executors);
                threads = List.copyOf(Shutdown.this.threads);
                processes = List.copyOf(Shutdown.this.processes);
            }
        }

        ShutdownReport run() {
            long t = System.nanoTime();
            List<HookResult> hookResults = stopAccepting();
            t = phase(Phase.STOP_ACCEPTING, t, State.DRAINING);

            drain();
            t = phase(Phase.DRAIN, t, State.INTERRUPTING);

            List<ExecutorResult> executorResults = new ArrayList<>();
            List<ThreadResult> threadResults = new ArrayList<>();
            interruptTheRest(executorResults, threadResults);
            t = phase(Phase.INTERRUPT, t, State.TERMINATING_PROCESSES);

            List<ProcessResult> processResults = terminateProcesses();
            phase(Phase.TERMINATE_PROCESSES, t, State.TERMINATED);

            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return new ShutdownReport(deadline, phases, hookResults, executorResults, threadResults,
                    processResults);
        }

        private long phase(Phase phase, long from, State next) {
            long now = System.nanoTime();
            phases.add(new PhaseTime(phase, Duration.ofNanos(now - from)));
            state.set(next);
            return now;
        }

        private List<HookResult> stopAccepting() {
            List<HookResult> results = new ArrayList<>();
            for (Named<StopAction> hook : hooks) {
                Optional<Exception> failure = Optional.empty();
                try {
                    hook.thing().run();
                } catch (Exception e) {
                    // One failing hook must not keep the others from running, nor the shutdown from going on.
                    failure = Optional.of(e);
                }
                results.add(new HookResult(hook.name(), failure));
            }
            executors.forEach(e -> e.thing().shutdown());
            return results;
        }

        /** Waits until the deadline for everything to end by itself. */
        private void drain() {
            for (Named<ExecutorService> e : executors) {
                awaitTermination(e.thing(), drainEnd);
            }
            for (Named<Thread> t : threads) {
                join(t.thing(), drainEnd);
            }
            for (Named<ProcessHandle> p : processes) {
                awaitExit(p.thing(), drainEnd);
            }
        }

        private void interruptTheRest(List<ExecutorResult> executorResults, List<ThreadResult> threadResults) {
            // Who was still running at the deadline, decided before anything is interrupted.
            List<Boolean> executorLate = executors.stream().map(e -> !e.thing().isTerminated()).toList();
            List<Boolean> threadLate = threads.stream().map(t -> t.thing().isAlive()).toList();
            List<List<Runnable>> queued = new ArrayList<>();
            for (int i = 0; i < executors.size(); i++) {
                queued.add(executorLate.get(i) ? executors.get(i).thing().shutdownNow() : List.of());
            }
            for (int i = 0; i < threads.size(); i++) {
                // A registered thread that calls shutdown itself is not interrupted by its own call.
                if (threadLate.get(i) && threads.get(i).thing() != Thread.currentThread()) {
                    threads.get(i).thing().interrupt();
                }
            }
            long graceEnd = System.nanoTime() + interruptGrace.toNanos();
            for (int i = 0; i < executors.size(); i++) {
                ExecutorService e = executors.get(i).thing();
                if (executorLate.get(i)) {
                    awaitTermination(e, graceEnd);
                }
                Fate fate = !executorLate.get(i) ? Fate.FINISHED
                        : e.isTerminated() ? Fate.ENDED_AFTER_INTERRUPT : Fate.ABANDONED;
                executorResults.add(new ExecutorResult(executors.get(i).name(), fate, queued.get(i)));
            }
            for (int i = 0; i < threads.size(); i++) {
                Thread t = threads.get(i).thing();
                if (threadLate.get(i)) {
                    join(t, graceEnd);
                }
                Fate fate = t.getState() == Thread.State.NEW ? Fate.NEVER_STARTED
                        : !threadLate.get(i) ? Fate.FINISHED
                        : t.isAlive() ? Fate.ABANDONED : Fate.ENDED_AFTER_INTERRUPT;
                threadResults.add(new ThreadResult(threads.get(i).name(), fate));
            }
        }

        private List<ProcessResult> terminateProcesses() {
            // The family is taken before anyone is signalled, and descendants are signalled before their root:
            // a parent that died first would hand its children to init, descendants() would no longer find them,
            // and while the parent lives it reaps the children it loses.
            List<List<ProcessHandle>> family = processes.stream()
                    .map(p -> p.thing().isAlive() ? p.thing().descendants().toList() : List.<ProcessHandle>of())
                    .toList();
            List<Boolean> exitedAlone = processes.stream().map(p -> !p.thing().isAlive()).toList();
            for (int i = 0; i < processes.size(); i++) {
                if (!exitedAlone.get(i)) {
                    family.get(i).forEach(Run::terminate);
                    terminate(processes.get(i).thing());
                }
            }
            long termEnd = System.nanoTime() + processGrace.toNanos();
            List<Boolean> killed = new ArrayList<>();
            for (int i = 0; i < processes.size(); i++) {
                ProcessHandle p = processes.get(i).thing();
                boolean kill = false;
                if (!exitedAlone.get(i)) {
                    family.get(i).forEach(d -> awaitExit(d, termEnd));
                    List<ProcessHandle> stubborn = family.get(i).stream().filter(ProcessHandle::isAlive).toList();
                    stubborn.forEach(ProcessHandle::destroyForcibly);
                    // Let the live parent reap them before it dies too, or they stay zombies of whoever adopts them.
                    long reapEnd = System.nanoTime() + REAP_WAIT.toNanos();
                    stubborn.forEach(d -> awaitExit(d, reapEnd));
                    awaitExit(p, termEnd);
                    kill = p.isAlive();
                    if (kill) {
                        p.destroyForcibly();
                    }
                }
                killed.add(kill);
            }
            // destroyForcibly only sends the signal: wait for the kernel to reap, so "killed" means gone.
            long killEnd = System.nanoTime() + REAP_WAIT.toNanos();
            List<ProcessResult> results = new ArrayList<>();
            for (int i = 0; i < processes.size(); i++) {
                ProcessHandle p = processes.get(i).thing();
                awaitExit(p, killEnd);
                family.get(i).forEach(d -> awaitExit(d, killEnd));
                ProcessFate fate = exitedAlone.get(i) ? ProcessFate.EXITED
                        : p.isAlive() ? ProcessFate.SURVIVED
                        : killed.get(i) ? ProcessFate.KILLED : ProcessFate.TERMINATED;
                int alive = (int) family.get(i).stream().filter(ProcessHandle::isAlive).count();
                results.add(new ProcessResult(processes.get(i).name(), p.pid(), fate,
                        family.get(i).stream().map(ProcessHandle::pid).toList(), alive));
            }
            return results;
        }

        private static void terminate(ProcessHandle p) {
            if (!p.supportsNormalTermination() || !p.destroy()) {
                p.destroyForcibly();
            }
        }

        private void awaitTermination(ExecutorService e, long until) {
            try {
                if (!interrupted) {
                    e.awaitTermination(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException ie) {
                interrupted = true;
            }
        }

        private void join(Thread t, long until) {
            if (t.getState() == Thread.State.NEW || t == Thread.currentThread()) {
                return; // never started, or the caller itself: nothing to wait for
            }
            try {
                long left = until - System.nanoTime();
                if (!interrupted && left > 0) {
                    t.join(Duration.ofNanos(left));
                }
            } catch (InterruptedException ie) {
                interrupted = true;
            }
        }

        private void awaitExit(ProcessHandle p, long until) {
            try {
                long left = until - System.nanoTime();
                if (!interrupted && left > 0 && p.isAlive()) {
                    p.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException ie) {
                interrupted = true;
            } catch (TimeoutException | ExecutionException ignored) {
                // Still alive: the caller looks at isAlive() and decides.
            }
        }
    }
}
