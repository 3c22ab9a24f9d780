package dev.conclab.lab.experiments;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;

/**
 * The lincheck settings the lab's {@code *LinearizabilityTest}s share: small scenarios, searched by the model
 * checker, and the words lincheck uses when a history has no sequential explanation.
 */
public final class LincheckScenarios {

    /** How lincheck reports a history that no sequential order explains (not a deadlock, not an exception). */
    public static final String NOT_LINEARIZABLE = "Invalid execution results";

    private LincheckScenarios() {
    }

    /**
     * Two threads of two operations each, plus {@code actorsAfter} operations after them: enough to hold every race
     * of a structure with one racy operation, so finding it does not depend on which scenarios the generator picks.
     */
    public static ModelCheckingOptions twoThreadsOfTwo(int actorsAfter) {
        return new ModelCheckingOptions()
                .iterations(5)
                .invocationsPerIteration(200)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(actorsAfter);
    }
}
