package dev.conclab.jobs.canvas;

import dev.conclab.jobs.client.SubmitOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One task call not yet submitted: a name, its arguments (values Jackson can write) and options. Inside a
 * {@link Chain} or as a {@link Chord}'s callback it receives one more, leading argument when it runs (its parent's
 * result, or the list of the group's results). Immutable when its arguments are.
 *
 * @param name    the task's name
 * @param args    the arguments given now
 * @param options overrides of the task's defaults
 */
public record Signature(String name, List<Object> args, SubmitOptions options) {
    public Signature {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(args, "args");
        Objects.requireNonNull(options, "options");
        args = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(args));
    }

    /** A call of {@code name} with these arguments and no overrides. */
    public static Signature of(String name, Object... args) {
        return new Signature(name, Arrays.asList(args), SubmitOptions.DEFAULTS);
    }

    /** This call with other options. */
    public Signature with(SubmitOptions options) {
        return new Signature(name, args, options);
    }
}
