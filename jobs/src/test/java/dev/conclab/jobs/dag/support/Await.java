package dev.conclab.jobs.dag.support;

import dev.conclab.jobs.dag.DagScheduler;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Test-only: polls a condition (optionally running scheduler rounds) until it holds or a generous deadline passes. */
public final class Await {

    /** Generous: the machine is shared by several builds. */
    public static final Duration DEADLINE = Duration.ofSeconds(60);

    private Await() {
    }

    public static void until(String what, BooleanSupplier condition) {
        until(what, Duration.ofMillis(1), condition);
    }

    /** Polls every {@code interval}. */
    public static void until(String what, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + DEADLINE + " waiting for " + what);
            }
            LockSupport.parkNanos(interval.toNanos());
        }
    }

    /** Runs scheduler rounds until the condition holds. */
    public static void driving(DagScheduler scheduler, String what, BooleanSupplier condition) {
        until(what, () -> {
            scheduler.runOnce();
            return condition.getAsBoolean();
        });
    }
}
