package dev.conclab.lab.engine;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What a measurement says about a claim. {@link Holds} and {@link Fails} carry the evidence (the measured numbers
 * and the threshold they were held to); {@link Skipped} carries why the claim could not be judged on this machine.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "verdict")
@JsonSubTypes({
        @JsonSubTypes.Type(value = Verdict.Holds.class, name = "HOLDS"),
        @JsonSubTypes.Type(value = Verdict.Fails.class, name = "FAILS"),
        @JsonSubTypes.Type(value = Verdict.Skipped.class, name = "SKIPPED")})
public sealed interface Verdict permits Verdict.Holds, Verdict.Fails, Verdict.Skipped {

    /** HOLDS, FAILS or SKIPPED. */
    @JsonIgnore
    String label();

    /** The evidence, or the reason for a skip. */
    String detail();

    record Holds(String detail) implements Verdict {
        @Override
        public String label() {
            return "HOLDS";
        }
    }

    record Fails(String detail) implements Verdict {
        @Override
        public String label() {
            return "FAILS";
        }
    }

    record Skipped(String detail) implements Verdict {
        @Override
        public String label() {
            return "SKIPPED";
        }
    }

    /** HOLDS when {@code holds}, otherwise FAILS, with the same evidence either way. */
    static Verdict check(boolean holds, String evidence) {
        return holds ? new Holds(evidence) : new Fails(evidence);
    }

    static Verdict skipped(String reason) {
        return new Skipped(reason);
    }

    /**
     * Checks that {@code ratio} is at least {@code threshold}. The evidence names both and what the ratio
     * compares, e.g. {@code "16 threads vs 1 thread: 14.2× (needs ≥ 8×)"}.
     */
    static Verdict atLeast(String what, double ratio, double threshold) {
        return check(ratio >= threshold, String.format("%s: %.2f× (needs ≥ %.2f×)", what, ratio, threshold));
    }

    /** Checks that {@code ratio} is at most {@code threshold}. */
    static Verdict atMost(String what, double ratio, double threshold) {
        return check(ratio <= threshold, String.format("%s: %.2f× (needs ≤ %.2f×)", what, ratio, threshold));
    }
}
