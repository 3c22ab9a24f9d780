package dev.conclab.lab.gil;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What one model thread runs: its name (its lane in the trace) and its steps, in order. Immutable.
 */
public record Script(String name, List<Step> steps) {

    public Script {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a script needs a name");
        }
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("script " + name + " has no steps");
        }
    }

    public static Script of(String name, Step... steps) {
        return new Script(name, List.of(steps));
    }

    /** {@code body} repeated {@code times} times. */
    public static Script repeat(String name, int times, Step... body) {
        if (times < 1) {
            throw new IllegalArgumentException("script " + name + " must repeat at least once, got " + times);
        }
        List<Step> steps = new ArrayList<>(times * body.length);
        for (int i = 0; i < times; i++) {
            Collections.addAll(steps, body);
        }
        return new Script(name, steps);
    }
}
