package dev.conclab.jobs.dag;

import dev.conclab.jobs.dag.cron.CronSchedule;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which logical dates a scheduled DAG owes runs for, Airflow's way: the run of the interval {@code [start, end)}
 * between two fire times is due once {@code end <= now}, and its logical date is {@code start}. Pure functions of
 * their arguments; thread-safe.
 */
final class RunPlanner {

    /** Bounds one scheduler round, so a DAG with years of minutely catch-up does not stall the loop. */
    static final int MAX_RUNS_PER_ROUND = 1_000;

    private RunPlanner() {
    }

    /**
     * The logical dates of the runs due now, oldest first: with catch-up every complete interval after
     * {@code latest} (or from the start date), else only the latest complete one if it is newer than
     * {@code latest}.
     */
    static List<Instant> due(Dag dag, Optional<Instant> latest, Instant now) {
        if (dag.schedule().isEmpty()) {
            return List.of();
        }
        CronSchedule cron = dag.schedule().get();
        Instant first = latest.map(l -> cron.nextAfter(l, dag.zone()))
                .orElseGet(() -> firstAtOrAfter(cron, dag, dag.startDate()));
        Instant start = first;
        if (!dag.catchup()) {
            Optional<Instant> newest = latestComplete(cron, dag, now);
            if (newest.isEmpty() || newest.get().isBefore(first)) {
                return List.of();
            }
            start = newest.get();
        }
        List<Instant> dates = new ArrayList<>();
        while (dates.size() < MAX_RUNS_PER_ROUND) {
            Instant end = cron.nextAfter(start, dag.zone());
            if (end.isAfter(now)) {
                break;
            }
            dates.add(start);
            start = end;
        }
        return dates;
    }

    /** The interval starts {@code s} with {@code from <= s <= to}, oldest first. */
    static List<Instant> between(Dag dag, Instant from, Instant to) {
        CronSchedule cron = dag.schedule().orElseThrow(() -> new IllegalArgumentException(
                "dag " + dag.id() + " has no schedule: there are no intervals to backfill"));
        if (to.isBefore(from)) {
            throw new IllegalArgumentException("backfill of " + dag.id() + ": 'to' " + to + " is before 'from' "
                    + from);
        }
        List<Instant> dates = new ArrayList<>();
        for (Instant s = firstAtOrAfter(cron, dag, from); !s.isAfter(to); s = cron.nextAfter(s, dag.zone())) {
            if (dates.size() == 100_000) {
                throw new IllegalArgumentException("backfill of " + dag.id() + " from " + from + " to " + to
                        + " covers more than 100,000 intervals");
            }
            dates.add(s);
        }
        return dates;
    }

    private static Instant firstAtOrAfter(CronSchedule cron, Dag dag, Instant t) {
        return cron.nextAfter(t.minusMillis(1), dag.zone());
    }

    /** The start of the newest interval that ended at or before {@code now}, not before the DAG's start date. */
    private static Optional<Instant> latestComplete(CronSchedule cron, Dag dag, Instant now) {
        // Look back over a doubling window until it holds one whole interval, then walk forward through it.
        for (Duration back = Duration.ofHours(1); back.compareTo(Duration.ofDays(366L * 30)) <= 0;
             back = back.multipliedBy(2)) {
            Instant from = now.minus(back);
            if (from.isBefore(dag.startDate())) {
                from = dag.startDate();
            }
            Instant s = firstAtOrAfter(cron, dag, from);
            Instant e = cron.nextAfter(s, dag.zone());
            if (!e.isAfter(now)) {
                while (true) {
                    Instant next = cron.nextAfter(e, dag.zone());
                    if (next.isAfter(now)) {
                        return Optional.of(s);
                    }
                    s = e;
                    e = next;
                }
            }
            if (from.equals(dag.startDate())) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
