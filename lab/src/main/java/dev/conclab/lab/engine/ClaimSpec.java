package dev.conclab.lab.engine;

import java.util.regex.Pattern;

/**
 * A claim an experiment makes, declared before it runs: a short stable id (cards cite it as
 * {@code experiment-id › claim-id}) and the sentence from the card that the measurement must bear out.
 */
public record ClaimSpec(String id, String text) {

    private static final Pattern ID = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    public ClaimSpec {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("claim id must be kebab-case: " + id);
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException("claim " + id + " has no text");
        }
    }
}
