package dev.conclab.jobs.dag.cron;

import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * One parsed field of a cron expression: the set of values it matches. Immutable and thread-safe.
 *
 * @param name     the field's name, for messages ("minute", "hour", ...)
 * @param values   the matched values
 * @param wildcard whether the field was written starting with {@code *} (matters for day-of-month/day-of-week)
 */
record CronField(String name, BitSet values, boolean wildcard) {

    /** The bounds and optional names of one field kind. */
    record Kind(String name, int min, int max, List<String> names) {
        static final Kind MINUTE = new Kind("minute", 0, 59, List.of());
        static final Kind HOUR = new Kind("hour", 0, 23, List.of());
        static final Kind DAY_OF_MONTH = new Kind("day-of-month", 1, 31, List.of());
        static final Kind MONTH = new Kind("month", 1, 12,
                List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"));
        // 0 and 7 are both Sunday; 7 is folded onto 0 after parsing.
        static final Kind DAY_OF_WEEK = new Kind("day-of-week", 0, 7,
                List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"));
    }

    boolean matches(int value) {
        return values.get(value);
    }

    /** Parses {@code *}, {@code n}, {@code a-b}, lists of those, each with an optional {@code /step}. */
    static CronField parse(Kind kind, String text) {
        BitSet set = new BitSet(kind.max() + 1);
        for (String part : text.split(",", -1)) {
            if (part.isEmpty()) {
                throw bad(kind, text, "empty list element");
            }
            String range = part;
            int step = 1;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                range = part.substring(0, slash);
                step = number(kind, text, part.substring(slash + 1));
                if (step < 1) {
                    throw bad(kind, text, "step must be >= 1");
                }
            }
            int from;
            int to;
            if (range.equals("*")) {
                from = kind.min();
                to = kind == Kind.DAY_OF_WEEK ? 6 : kind.max();
            } else {
                int dash = range.indexOf('-');
                if (dash >= 0) {
                    from = value(kind, text, range.substring(0, dash));
                    to = value(kind, text, range.substring(dash + 1));
                    if (from > to) {
                        throw bad(kind, text, "range " + range + " runs backwards");
                    }
                } else {
                    from = value(kind, text, range);
                    // "5/15" means from 5 to the maximum in steps of 15, as in Vixie cron.
                    to = slash >= 0 ? (kind == Kind.DAY_OF_WEEK ? 6 : kind.max()) : from;
                }
            }
            for (int v = from; v <= to; v += step) {
                set.set(v);
            }
        }
        if (kind == Kind.DAY_OF_WEEK && set.get(7)) {
            set.clear(7);
            set.set(0);
        }
        return new CronField(kind.name(), set, text.startsWith("*"));
    }

    private static int value(Kind kind, String text, String token) {
        int index = kind.names().indexOf(token.toUpperCase(Locale.ROOT));
        if (index >= 0) {
            return index + kind.min();
        }
        int v = number(kind, text, token);
        if (v < kind.min() || v > kind.max()) {
            throw bad(kind, text, token + " is outside " + kind.min() + "-" + kind.max());
        }
        return v;
    }

    private static int number(Kind kind, String text, String token) {
        try {
            return Integer.parseInt(token);
        } catch (NumberFormatException e) {
            throw bad(kind, text, "'" + token + "' is not a number" + (kind.names().isEmpty() ? "" : " or a name"));
        }
    }

    private static IllegalArgumentException bad(Kind kind, String text, String problem) {
        return new IllegalArgumentException(kind.name() + " field '" + text + "': " + problem);
    }
}
