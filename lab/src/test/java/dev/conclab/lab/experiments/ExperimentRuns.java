package dev.conclab.lab.experiments;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Runner;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs experiments the way the test suite checks them, and the thread-leak check every such run ends with. */
final class ExperimentRuns {

    /**
     * Pools the JVM shares between runs (the common pool, the virtual-thread scheduler's carriers) and the runner's
     * own thread: not an experiment's to stop. The JDK's internal threads (process reapers, pollers, cleaners) live
     * in the system thread group and are not looked at.
     */
    private static final List<String> SHARED_POOLS = List.of("ForkJoinPool", "conclab-run-");

    private static final Runner RUNNER = new Runner(Optional.empty());

    private ExperimentRuns() {
    }

    /** One quick run with the given parameter values on top of the quick defaults, without storing the record. */
    static RunRecord quickRun(Experiment experiment, Map<String, String> overrides) throws InterruptedException {
        return RUNNER.run(experiment, ParamValues.resolve(experiment.params(), overrides, true), true,
                ProgressListener.NONE);
    }

    /** Each claim's verdict and evidence, one per line, for assertion messages. */
    static String report(RunRecord record) {
        return record.result().claims().stream()
                .map(c -> c.verdict().label() + " " + c.id() + ": " + c.verdict().detail())
                .collect(Collectors.joining("\n  "));
    }

    /** The threads alive now, to compare with after a run. */
    static Set<Thread> liveThreads() {
        return Set.copyOf(Thread.getAllStackTraces().keySet());
    }

    /**
     * Every platform thread an experiment started since {@code before} has ended (each gets two seconds to finish),
     * daemon or not. ({@link Thread#getAllStackTraces()} does not list virtual threads.)
     */
    static void assertNoThreadLeftBehind(Set<Thread> before, String id) throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(t) && t.isAlive() && startedByExperiment(t)) {
                t.join(2_000);
                assertThat(t.isAlive()).as(id + " left thread " + t.getName() + " running").isFalse();
            }
        }
    }

    /** Platform threads inherit the group of the thread that made them: the test's, through the runner's. */
    private static boolean startedByExperiment(Thread t) {
        return t.getThreadGroup() == Thread.currentThread().getThreadGroup()
                && SHARED_POOLS.stream().noneMatch(t.getName()::startsWith);
    }
}
