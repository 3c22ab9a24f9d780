package dev.conclab.jobs.dag.cron;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A five-field cron schedule ({@code minute hour day-of-month month day-of-week}) with {@code *}, lists, ranges,
 * steps, month and weekday names, and the macros {@code @yearly @annually @monthly @weekly @daily @midnight
 * @hourly}. Written here rather than taken from a library: no cron library is in this build's dependency cache.
 *
 * <p>Semantics are Vixie cron's: day-of-week 0 and 7 are Sunday; when both day-of-month and day-of-week are
 * restricted (neither starts with {@code *}) a day matches if <em>either</em> matches.
 *
 * <p><b>Time zones.</b> Fire times are wall-clock times in the zone given to {@link #nextAfter}. A wall-clock time
 * that does not exist (the gap when clocks go forward) fires at the same offset past the gap (02:30 becomes 03:30);
 * a wall-clock time that occurs twice (clocks go back) fires once, at the earlier offset: an hourly schedule
 * fires once per distinct wall-clock hour, 24 times on the 25-hour day and 23 times on the 23-hour day.
 *
 * <p>Immutable and thread-safe. A schedule that can never fire (say {@code 0 0 30 2 *}) is rejected when parsed.
 */
public final class CronSchedule {

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final int[] MAX_DAYS = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /** A valid schedule fires within 28 years (the Gregorian weekday/leap cycle); the search stops there. */
    private static final int SEARCH_YEARS = 28;

    private final String expression;
    private final CronField minute;
    private final CronField hour;
    private final CronField dayOfMonth;
    private final CronField month;
    private final CronField dayOfWeek;

    private CronSchedule(String expression, String[] fields) {
        this.expression = expression;
        this.minute = CronField.parse(CronField.Kind.MINUTE, fields[0]);
        this.hour = CronField.parse(CronField.Kind.HOUR, fields[1]);
        this.dayOfMonth = CronField.parse(CronField.Kind.DAY_OF_MONTH, fields[2]);
        this.month = CronField.parse(CronField.Kind.MONTH, fields[3]);
        this.dayOfWeek = CronField.parse(CronField.Kind.DAY_OF_WEEK, fields[4]);
        if (dayOfWeek.wildcard() || !dayOfMonth.wildcard()) {
            checkSomeMonthHasADay();
        }
    }

    /**
     * Parses an expression.
     *
     * @throws IllegalArgumentException naming the field and the problem
     */
    public static CronSchedule parse(String expression) {
        Objects.requireNonNull(expression, "cron expression");
        String text = expression.strip();
        if (text.startsWith("@")) {
            String fields = MACROS.get(text.toLowerCase(Locale.ROOT));
            if (fields == null) {
                throw new IllegalArgumentException("unknown cron macro '" + text + "' (known: "
                        + new TreeSet<>(MACROS.keySet()) + ")");
            }
            return new CronSchedule(text, fields.split(" "));
        }
        String[] fields = text.split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException("cron expression '" + expression + "' has " + fields.length
                    + " fields; expected 5 (minute hour day-of-month month day-of-week) or a macro like @daily");
        }
        return new CronSchedule(text, fields);
    }

    /** The expression as written. */
    public String expression() {
        return expression;
    }

    /** The first fire time strictly after {@code after}, as wall-clock time in {@code zone}. */
    public Instant nextAfter(Instant after, ZoneId zone) {
        Objects.requireNonNull(after, "after");
        Objects.requireNonNull(zone, "zone");
        LocalDateTime t = LocalDateTime.ofInstant(after, zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        LocalDateTime limit = t.plusYears(SEARCH_YEARS);
        while (t.isBefore(limit)) {
            if (!month.matches(t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
            } else if (!dayMatches(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
            } else if (!hour.matches(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!minute.matches(t.getMinute())) {
                t = t.plusMinutes(1);
            } else {
                Instant fire = ZonedDateTime.ofLocal(t, zone, null).toInstant();
                if (fire.isAfter(after)) {
                    return fire;
                }
                t = t.plusMinutes(1); // a gap-shifted time at or before 'after': look further
            }
        }
        throw new IllegalStateException("cron '" + expression + "' has no fire time within " + SEARCH_YEARS
                + " years after " + after);
    }

    private boolean dayMatches(LocalDate date) {
        boolean dom = dayOfMonth.matches(date.getDayOfMonth());
        boolean dow = dayOfWeek.matches(date.getDayOfWeek().getValue() % 7);
        if (dayOfMonth.wildcard() || dayOfWeek.wildcard()) {
            return dom && dow;
        }
        return dom || dow;
    }

    private void checkSomeMonthHasADay() {
        int firstDay = dayOfMonth.values().nextSetBit(1);
        for (int m = 1; m <= 12; m++) {
            if (month.matches(m) && firstDay <= MAX_DAYS[m - 1]) {
                return;
            }
        }
        throw new IllegalArgumentException("cron '" + expression + "' never fires: no chosen month has day "
                + firstDay);
    }

    /** For messages and {@code jobs dags}. */
    @Override
    public String toString() {
        return expression;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CronSchedule other && other.expression.equals(expression);
    }

    @Override
    public int hashCode() {
        return expression.hashCode();
    }
}
