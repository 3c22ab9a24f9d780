package dev.conclab.lab.web;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Experiments whose pace a test controls with latches, so that "still running" and "has reported progress" are
 * states a test waits for, never guesses with a sleep. They are given to a {@link WebLab} beside the real ones.
 */
final class TestExperiments {

    static final ClaimSpec CLAIM = new ClaimSpec("test-claim", "The test experiment ran to its end.");
    static final String HALFWAY = "halfway: waiting for the test";

    private TestExperiments() {
    }

    /**
     * Common declarations (one int and one choice parameter, one claim, a timeout) and the latch of the next
     * run, which the test makes with {@link #nextLatch()} before it starts that run.
     */
    private abstract static class Base implements Experiment {
        private final String id;
        private final Duration timeout;
        private final AtomicReference<CountDownLatch> latch = new AtomicReference<>(new CountDownLatch(1));

        Base(String id, Duration timeout) {
            this.id = id;
            this.timeout = timeout;
        }

        /** A fresh latch for the next run. */
        CountDownLatch nextLatch() {
            CountDownLatch next = new CountDownLatch(1);
            latch.set(next);
            return next;
        }

        CountDownLatch latch() {
            return latch.get();
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public String title() {
            return "a test experiment (" + id + ")";
        }

        @Override
        public String description() {
            return "an experiment whose pace the test sets";
        }

        @Override
        public List<Param> params() {
            return List.of(new Param.IntParam("n", "a number", 1, 10, 5, 2),
                    new Param.ChoiceParam("mode", "a word", List.of("fast", "slow"), "slow", "fast"));
        }

        @Override
        public List<ClaimSpec> claims() {
            return List.of(CLAIM);
        }

        @Override
        public Duration timeout(boolean quick) {
            return timeout;
        }
    }

    /**
     * Reports {@link #HALFWAY} at 0.5, then waits until the test opens its latch (the gate), then judges its claim
     * HOLDS with the parameter values as evidence.
     */
    static final class Steps extends Base {
        Steps(String id) {
            super(id, Duration.ofSeconds(60));
        }

        @Override
        public void run(RunContext ctx) throws Exception {
            ctx.progress(0.5, HALFWAY);
            latch().await();
            ctx.progress(1.0, "done");
            ctx.claim(CLAIM, Verdict.check(true, "n=" + ctx.intParam("n") + " mode="
                    + ctx.params().getString("mode")));
        }
    }

    /** Opens its latch once started, then blocks until it is cancelled or times out (the runner interrupts it). */
    static final class Blocking extends Base {
        Blocking(String id, Duration timeout) {
            super(id, timeout);
        }

        @Override
        public void run(RunContext ctx) throws Exception {
            ctx.progress(0.1, "blocking until cancelled");
            latch().countDown();
            new CountDownLatch(1).await();
        }
    }
}
