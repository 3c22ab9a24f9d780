package dev.conclab.jobs.dag.cron;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class CronScheduleTest {

    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    private static Instant next(String cron, String afterUtc) {
        return CronSchedule.parse(cron).nextAfter(Instant.parse(afterUtc), ZoneOffset.UTC);
    }

    private static Instant nextIn(String cron, ZoneId zone, String afterLocal) {
        Instant after = LocalDateTime.parse(afterLocal).atZone(zone).toInstant();
        return CronSchedule.parse(cron).nextAfter(after, zone);
    }

    @Test
    void everyFieldKind() {
        assertThat(next("*/15 * * * *", "2026-11-27T10:07:30Z")).isEqualTo("2026-11-27T10:15:00Z");
        assertThat(next("*/15 * * * *", "2026-11-27T10:15:00Z")).isEqualTo("2026-11-27T10:30:00Z");
        assertThat(next("5,35 * * * *", "2026-11-27T10:36:00Z")).isEqualTo("2026-11-27T11:05:00Z");
        assertThat(next("0 9-17/4 * * *", "2026-11-27T13:00:00Z")).isEqualTo("2026-11-27T17:00:00Z");
        assertThat(next("10/20 * * * *", "2026-11-27T10:31:00Z")).isEqualTo("2026-11-27T10:50:00Z");
        // Friday after hours -> Monday 09:00.
        assertThat(next("*/15 9-17 * * MON-FRI", "2026-11-27T17:50:00Z")).isEqualTo("2026-11-30T09:00:00Z");
        assertThat(next("0 0 * JAN,jul *", "2026-02-01T00:00:00Z")).isEqualTo("2026-07-01T00:00:00Z");
        // 7 is Sunday too: 2026-11-29 is a Sunday.
        assertThat(next("0 0 * * 7", "2026-11-27T00:00:00Z")).isEqualTo("2026-11-29T00:00:00Z");
    }

    @Test
    void macros() {
        assertThat(next("@hourly", "2026-11-27T10:00:00Z")).isEqualTo("2026-11-27T11:00:00Z");
        assertThat(next("@daily", "2026-11-27T10:00:00Z")).isEqualTo("2026-11-28T00:00:00Z");
        assertThat(next("@midnight", "2026-11-27T23:59:59Z")).isEqualTo("2026-11-28T00:00:00Z");
        assertThat(next("@weekly", "2026-11-27T10:00:00Z")).isEqualTo("2026-11-29T00:00:00Z");
        assertThat(next("@monthly", "2026-11-27T10:00:00Z")).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(next("@yearly", "2026-11-27T10:00:00Z")).isEqualTo("2027-01-01T00:00:00Z");
    }

    @Test
    void monthEndsAndLeapDays() {
        assertThat(next("0 0 31 * *", "2026-04-01T00:00:00Z")).isEqualTo("2026-05-31T00:00:00Z");
        assertThat(next("0 0 31 * *", "2026-05-31T00:00:00Z")).isEqualTo("2026-07-31T00:00:00Z");
        assertThat(next("0 0 30 * *", "2026-01-30T00:00:00Z")).isEqualTo("2026-03-30T00:00:00Z");
        assertThat(next("0 0 29 2 *", "2026-01-01T00:00:00Z")).isEqualTo("2028-02-29T00:00:00Z");
        assertThat(next("0 12 1 * *", "2026-12-15T00:00:00Z")).isEqualTo("2027-01-01T12:00:00Z");
        assertThat(next("59 23 31 12 *", "2026-12-31T23:59:00Z")).isEqualTo("2027-12-31T23:59:00Z");
    }

    @Test
    void dayOfMonthOrDayOfWeekWhenBothRestricted() {
        // The 13th or any Friday: from Sunday 2026-11-01, Friday the 6th comes first.
        assertThat(next("0 0 13 * FRI", "2026-11-01T00:00:00Z")).isEqualTo("2026-11-06T00:00:00Z");
        assertThat(next("0 0 13 * FRI", "2026-11-12T00:00:00Z")).isEqualTo("2026-11-13T00:00:00Z");
        // A '*' day-of-week leaves day-of-month alone.
        assertThat(next("0 0 13 * *", "2026-11-01T00:00:00Z")).isEqualTo("2026-11-13T00:00:00Z");
    }

    @Test
    void dstGapFiresAfterTheGap() {
        // 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00): it fires at 03:30 EDT, once.
        Instant gap = nextIn("30 2 * * *", NEW_YORK, "2026-03-07T12:00");
        assertThat(gap).isEqualTo("2026-03-08T07:30:00Z");
        assertThat(CronSchedule.parse("30 2 * * *").nextAfter(gap, NEW_YORK)).isEqualTo("2026-03-09T06:30:00Z");
        // Hourly at :30 across the gap: 01:30 EST, 03:30 EDT (the shifted 02:30), 04:30 EDT - no duplicate.
        CronSchedule hourly = CronSchedule.parse("30 * * * *");
        Instant a = nextIn("30 * * * *", NEW_YORK, "2026-03-08T01:00");
        Instant b = hourly.nextAfter(a, NEW_YORK);
        Instant c = hourly.nextAfter(b, NEW_YORK);
        assertThat(a).isEqualTo("2026-03-08T06:30:00Z");
        assertThat(b).isEqualTo("2026-03-08T07:30:00Z");
        assertThat(c).isEqualTo("2026-03-08T08:30:00Z");
    }

    @Test
    void dstOverlapFiresOnceAtTheEarlierOffset() {
        // 2026-11-01 01:30 happens twice in New York (EDT, then EST): it fires at the first, 05:30Z, only.
        Instant first = nextIn("30 1 * * *", NEW_YORK, "2026-10-31T12:00");
        assertThat(first).isEqualTo("2026-11-01T05:30:00Z");
        assertThat(CronSchedule.parse("30 1 * * *").nextAfter(first, NEW_YORK)).isEqualTo("2026-11-02T06:30:00Z");
        // Hourly: 01:00 EDT, then 02:00 EST; the repeated 01:00 (EST) does not fire again.
        Instant one = nextIn("0 * * * *", NEW_YORK, "2026-11-01T00:30");
        assertThat(one).isEqualTo("2026-11-01T05:00:00Z");
        assertThat(CronSchedule.parse("0 * * * *").nextAfter(one, NEW_YORK)).isEqualTo("2026-11-01T07:00:00Z");
        // Daily midnight keeps local midnight on both sides of the change.
        Instant before = nextIn("0 0 * * *", NEW_YORK, "2026-10-31T12:00");
        Instant after = CronSchedule.parse("0 0 * * *").nextAfter(before, NEW_YORK);
        assertThat(before).isEqualTo("2026-11-01T04:00:00Z");
        assertThat(after).isEqualTo("2026-11-02T05:00:00Z");
    }

    @Test
    void hourlyFiresOncePerWallClockHourOnDstDays() {
        assertThat(firesOn("2026-03-08")).isEqualTo(23); // 23-hour day
        assertThat(firesOn("2026-11-01")).isEqualTo(24); // 25-hour day
        assertThat(firesOn("2026-11-02")).isEqualTo(24);
    }

    private static int firesOn(String date) {
        CronSchedule hourly = CronSchedule.parse("@hourly");
        Instant from = LocalDateTime.parse(date + "T00:00").atZone(NEW_YORK).toInstant();
        Instant to = LocalDateTime.parse(date + "T00:00").plusDays(1).atZone(NEW_YORK).toInstant();
        int n = 0;
        for (Instant t = hourly.nextAfter(from.minusSeconds(1), NEW_YORK); t.isBefore(to);
             t = hourly.nextAfter(t, NEW_YORK)) {
            n++;
        }
        return n;
    }

    @Test
    void badExpressionsNameTheFieldAndProblem() {
        assertThatThrownBy(() -> CronSchedule.parse("* * * *")).hasMessageContaining("has 4 fields; expected 5");
        assertThatThrownBy(() -> CronSchedule.parse("60 * * * *"))
                .hasMessageContaining("minute field '60'").hasMessageContaining("outside 0-59");
        assertThatThrownBy(() -> CronSchedule.parse("0 24 * * *")).hasMessageContaining("hour field");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 0 * *")).hasMessageContaining("day-of-month field");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 * FOO *"))
                .hasMessageContaining("month field 'FOO'").hasMessageContaining("not a number or a name");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 * * 8")).hasMessageContaining("day-of-week field");
        assertThatThrownBy(() -> CronSchedule.parse("*/0 * * * *")).hasMessageContaining("step must be >= 1");
        assertThatThrownBy(() -> CronSchedule.parse("5-1 * * * *")).hasMessageContaining("runs backwards");
        assertThatThrownBy(() -> CronSchedule.parse("1,,2 * * * *")).hasMessageContaining("empty list element");
        assertThatThrownBy(() -> CronSchedule.parse("@often")).hasMessageContaining("unknown cron macro");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 30 2 *")).hasMessageContaining("never fires");
    }
}
