package dev.conclab.lab.engine;

import java.util.List;

/**
 * One declared parameter of an experiment: a name, what it means, the values it accepts, a default for a full
 * run and a smaller value for quick mode. Implementations are immutable.
 */
public sealed interface Param permits Param.IntParam, Param.ChoiceParam {

    String name();

    String description();

    /** The value of a full run. */
    Object defaultValue();

    /** The value of a quick run (the test suite and {@code --quick}). */
    Object quickValue();

    /** The accepted values in words, for help and error messages, e.g. {@code 1..256}. */
    String range();

    /**
     * Parses and checks a value given by a user.
     *
     * @throws BadParameterException naming the parameter, the bad value and the accepted range
     */
    Object parse(String raw);

    /** An integer parameter within {@code [min, max]}. */
    record IntParam(String name, String description, int min, int max, Integer defaultValue, Integer quickValue)
            implements Param {

        public IntParam {
            if (defaultValue == null || quickValue == null) {
                throw new IllegalArgumentException("parameter " + name + " needs a default and a quick value");
            }
            if (min > max || defaultValue < min || defaultValue > max || quickValue < min || quickValue > max) {
                throw new IllegalArgumentException("parameter " + name + ": default and quick values must lie in "
                        + min + ".." + max);
            }
        }

        @Override
        public String range() {
            return min + ".." + max;
        }

        @Override
        public Integer parse(String raw) {
            long value;
            try {
                value = Long.parseLong(raw.strip().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new BadParameterException("parameter " + name + "=" + raw + " is not an integer (allowed: "
                        + range() + ")");
            }
            if (value < min || value > max) {
                throw new BadParameterException("parameter " + name + "=" + raw + " is out of range (allowed: "
                        + range() + ")");
            }
            return (int) value;
        }
    }

    /** A parameter that takes one of a fixed list of words. */
    record ChoiceParam(String name, String description, List<String> choices, String defaultValue,
                       String quickValue) implements Param {

        public ChoiceParam {
            choices = List.copyOf(choices);
            if (!choices.contains(defaultValue) || !choices.contains(quickValue)) {
                throw new IllegalArgumentException("parameter " + name + ": default and quick values must be one of "
                        + choices);
            }
        }

        @Override
        public String range() {
            return String.join("|", choices);
        }

        @Override
        public String parse(String raw) {
            String value = raw.strip();
            if (!choices.contains(value)) {
                throw new BadParameterException("parameter " + name + "=" + raw + " is not allowed (allowed: "
                        + range() + ")");
            }
            return value;
        }
    }
}
