package dev.conclab.lab.engine;

import java.time.Duration;
import java.util.List;

/** An experiment whose body a test supplies, with two declared claims and a short timeout. */
final class TestExperiment implements Experiment {

    static final ClaimSpec FIRST = new ClaimSpec("first", "The first claim.");
    static final ClaimSpec SECOND = new ClaimSpec("second", "The second claim.");

    interface Body {
        void run(RunContext ctx) throws Exception;
    }

    private final Body body;
    private final Duration timeout;

    TestExperiment(Duration timeout, Body body) {
        this.body = body;
        this.timeout = timeout;
    }

    @Override
    public String id() {
        return "test-experiment";
    }

    @Override
    public String title() {
        return "a test experiment";
    }

    @Override
    public String description() {
        return "runs what the test gives it";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("n", "n", 1, 10, 5, 2));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(FIRST, SECOND);
    }

    @Override
    public Duration timeout(boolean quick) {
        return timeout;
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        body.run(ctx);
    }
}
