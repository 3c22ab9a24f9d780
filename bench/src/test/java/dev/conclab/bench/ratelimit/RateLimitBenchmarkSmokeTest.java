package dev.conclab.bench.ratelimit;

import dev.conclab.bench.BenchMain;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every limiter admits on the admitted path and refuses on the rejected one, the benchmark runs in this JVM with
 * tiny settings, the report prints ratios, and a short real-time accuracy run stays within the burst bound. It
 * checks that the benchmark works, not how fast anything is.
 */
class RateLimitBenchmarkSmokeTest {

    @Test
    void everyLimiterAdmitsOnTheAdmittedPathAndRefusesOnTheRejectedOne() {
        for (String limiter : RateLimitBenchmark.LIMITERS) {
            var admitted = RateLimitBenchmark.make(limiter, true);
            for (int i = 0; i < 10_000; i++) {
                assertThat(admitted.getAsBoolean()).as(limiter + " admitted path, call " + i).isTrue();
            }
            var rejected = RateLimitBenchmark.make(limiter, false);
            assertThat(rejected.getAsBoolean()).as(limiter + " first permit").isTrue();
            for (int i = 0; i < 1_000; i++) {
                assertThat(rejected.getAsBoolean()).as(limiter + " rejected path").isFalse();
            }
        }
    }

    @Test
    void benchmarkRunsAndTheReportPrintsRatiosToTheFastestPeer() throws Exception {
        var options = new OptionsBuilder().include(RateLimitBenchmark.class.getName()).forks(0).warmupIterations(0)
                .measurementIterations(1).measurementTime(TimeValue.milliseconds(100))
                .verbosity(VerboseMode.SILENT).build();
        var rates = RateLimitReport.rates(new Runner(options).run());
        assertThat(rates).containsOnlyKeys(new RateLimitReport.Case("admitted", 1),
                new RateLimitReport.Case("admitted", 2), new RateLimitReport.Case("rejected", 1),
                new RateLimitReport.Case("rejected", 2));
        assertThat(rates.values()).allSatisfy(byLimiter -> assertThat(byLimiter)
                .containsOnlyKeys(RateLimitBenchmark.LIMITERS).allSatisfy((k, v) -> assertThat(v).isPositive()));
        var bytes = new ByteArrayOutputStream();
        RateLimitReport.print(rates, BenchMain.machine(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("machine: ").contains("vs fastest peer")
                .contains("resilience4j");
    }

    @Test
    void aShortRealTimeRunStaysWithinTheBurstBound() throws Exception {
        var outcome = AdmissionAccuracy.measure(2_000, 2_000, Duration.ofSeconds(2), 2);
        assertThat(outcome.overBudget()).isZero();
        assertThat(outcome.error()).isBetween(-0.05, 0.01);   // generous: a shared machine may starve the callers
    }

    @Test
    void slowestCallReportsATailForEveryPathAndLimiter() throws Exception {
        var tails = SlowestCall.measure(2_000, 1);
        assertThat(tails).containsOnlyKeys("admitted", "rejected");
        assertThat(tails.values()).allSatisfy(byLimiter -> assertThat(byLimiter)
                .containsOnlyKeys(SlowestCall.LIMITERS).allSatisfy((k, t) -> assertThat(t.max())
                        .isGreaterThanOrEqualTo(t.p9999()).isGreaterThanOrEqualTo(t.p999()).isPositive()));
        var bytes = new ByteArrayOutputStream();
        SlowestCall.print(tails, 2_000, 1, BenchMain.machine(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("load average").contains("max vs bucket4j");
    }
}
