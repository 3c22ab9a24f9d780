package dev.conclab.lab.engine;

/** A declared claim with the verdict one run gave it. */
public record ClaimResult(String id, String text, Verdict verdict) {

    public static ClaimResult of(ClaimSpec spec, Verdict verdict) {
        return new ClaimResult(spec.id(), spec.text(), verdict);
    }
}
