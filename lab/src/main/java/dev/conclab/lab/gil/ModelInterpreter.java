package dev.conclab.lab.gil;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs model threads under one model GIL, for real: each {@link Script} on its own platform thread, in real time,
 * scheduled by the operating system.
 *
 * <p><b>Why real threads and real time, not a simulation.</b> A discrete-event simulation would replay the
 * algorithm's rules and could only confirm them. Running it on real threads lets the claims fail: a waiter's
 * latency, the lack of speed-up and the re-takes come from real condition waits, real wake-ups and a real
 * scheduler, as they do in CPython. The price is noise: every number varies from run to run, so claims about the
 * model carry margins, and outcomes that must happen every time are forced ({@link GilConfig.Wakeups#LATE},
 * {@link Step.ComputeUntil}).
 *
 * <p><b>Start order.</b> Threads start in the order of the scripts, each once the previous one has taken the GIL
 * for the first time, as {@code threading.Thread.start()} returns only once the new thread is running. So the
 * first script holds the GIL first, and the others begin by waiting for it.
 *
 * <p><b>Thread safety and blocking:</b> an interpreter is immutable and may run many runs, one after another or at
 * once (each run has its own GIL). {@link #run} blocks until every model thread has finished its script. If the
 * calling thread is interrupted, it interrupts the model threads, waits for them to end, and throws
 * {@link InterruptedException}: a run never leaves a thread behind.
 */
public final class ModelInterpreter {

    private final GilConfig config;

    public ModelInterpreter(GilConfig config) {
        if (config == null) {
            throw new NullPointerException("config");
        }
        this.config = config;
    }

    public GilConfig config() {
        return config;
    }

    /** Runs {@code scripts} and returns what their GIL went through. */
    public GilRun run(List<Script> scripts) throws InterruptedException {
        return run(scripts, new GilRecorder());
    }

    /**
     * Runs {@code scripts}, recording into {@code recorder}, which the scripts' {@link Step.ComputeUntil}
     * conditions may read while the run goes on.
     *
     * @throws IllegalArgumentException if there are no scripts or two share a name
     * @throws IllegalStateException    if a model thread failed (its exception is the cause)
     */
    public GilRun run(List<Script> scripts, GilRecorder recorder) throws InterruptedException {
        checkNames(scripts);
        ModelGil gil = new ModelGil(config, recorder);
        List<ModelThread> models = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (Script script : scripts) {
                ModelThread model = new ModelThread(script, gil);
                models.add(model);
                threads.add(Thread.ofPlatform().name("gil-model-" + script.name()).start(model));
                model.awaitStarted();
            }
            for (Thread thread : threads) {
                thread.join();
            }
        } catch (InterruptedException e) {
            stop(threads);
            throw e;
        }
        long end = System.nanoTime();
        for (ModelThread model : models) {
            if (model.failure() != null) {
                throw new IllegalStateException("model thread " + model.name() + " failed: " + model.failure(),
                        model.failure());
            }
        }
        return new GilRun(config, recorder.events(), start, end);
    }

    private static void checkNames(List<Script> scripts) {
        if (scripts == null || scripts.isEmpty()) {
            throw new IllegalArgumentException("a run needs at least one script");
        }
        Set<String> names = new HashSet<>();
        for (Script script : scripts) {
            if (!names.add(script.name())) {
                throw new IllegalArgumentException("two scripts are named " + script.name()
                        + ": names are the threads' lanes and must differ");
            }
        }
    }

    /** Interrupts the model threads and waits for each to end, keeping the caller's interrupt. */
    private static void stop(List<Thread> threads) {
        threads.forEach(Thread::interrupt);
        boolean interrupted = false;
        for (Thread thread : threads) {
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException again) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
