package dev.conclab.lab.engine;

import java.time.Duration;
import java.util.List;

/**
 * One executable lesson: it declares what it takes and what it claims, then measures.
 *
 * <p>Implementations are stateless: everything a run needs comes through its {@link RunContext}, so one instance
 * can serve many runs, one after another or at once. {@link #run} reports tables, series, trace spans and one
 * verdict per declared claim through the context; it should call {@link RunContext#checkCancelled()} between
 * steps, let {@link InterruptedException} propagate, and start child processes through
 * {@link RunContext#children()} so that a cancelled run leaves nothing behind.
 */
public interface Experiment {

    /** Stable kebab-case id, used by cards, the CLI and stored results. */
    String id();

    /** One line saying what is measured. */
    String title();

    /** The prose header: the baseline, the variants, and what the claims say. */
    String description();

    List<Param> params();

    /** The claims this experiment judges, in the card's words; every run gives each a verdict. */
    List<ClaimSpec> claims();

    void run(RunContext ctx) throws Exception;

    /** How long a run may take before the runner stops it. */
    default Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(10);
    }
}
