package dev.conclab.lab.catalog;

import dev.conclab.lab.engine.Experiment;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A card in a list: its id, question, status, experiments and whether it has a CPython side. Immutable.
 *
 * @param status {@code answered} or {@code open}
 * @param python the card has a CPython side: at least one of its experiments declares one, see
 *               {@link #hasPythonSide(Experiment)}
 */
public record CardSummary(String id, String question, String status, List<String> experiments, boolean python) {

    /** The prefix of the claims an experiment judges on CPython (and of the parameters of its CPython side). */
    public static final String PYTHON_CLAIM_PREFIX = "py-";

    /** Words that name CPython or one of its own modules. */
    private static final Pattern NAMES_PYTHON = Pattern.compile("\\b(C?Python|asyncio|multiprocessing)\\b");

    public CardSummary {
        experiments = List.copyOf(experiments);
    }

    /** The summary of {@code card}; {@code experiments} maps ids to the experiments that exist. */
    public static CardSummary of(Card card, Map<String, Experiment> experiments) {
        return new CardSummary(card.id(), card.question(), card.status().word(), card.experiments(),
                hasPythonSide(card, experiments));
    }

    /**
     * Whether {@code card} has a CPython side: one of its experiments {@linkplain #hasPythonSide(Experiment) declares
     * one}. This is what is measured, not what the prose mentions: every answer has an "In Python" section, so that
     * section alone would mark every card.
     */
    public static boolean hasPythonSide(Card card, Map<String, Experiment> experiments) {
        return card.experiments().stream().map(experiments::get).filter(e -> e != null)
                .anyMatch(CardSummary::hasPythonSide);
    }

    /**
     * Whether {@code experiment} runs a CPython side, read from what it declares (an experiment runs its probes
     * from {@code run}, and the engine has no declaration of them): a claim or a parameter whose name starts with
     * {@value #PYTHON_CLAIM_PREFIX} (the engine's convention for what is judged or tuned on CPython), or a title,
     * description or claim that names CPython, Python, {@code asyncio} or {@code multiprocessing} (the lab's
     * experiments name their CPython side so; a JVM-only experiment names none of them). A claim id alone is not
     * enough: {@code gil-cpu-threads} judges pure Python and hashlib threads with claims that have no prefix.
     */
    public static boolean hasPythonSide(Experiment experiment) {
        return experiment.claims().stream().anyMatch(c -> c.id().startsWith(PYTHON_CLAIM_PREFIX)
                || NAMES_PYTHON.matcher(c.text()).find())
                || experiment.params().stream().anyMatch(p -> p.name().startsWith(PYTHON_CLAIM_PREFIX))
                || NAMES_PYTHON.matcher(experiment.title()).find()
                || NAMES_PYTHON.matcher(experiment.description()).find();
    }
}
