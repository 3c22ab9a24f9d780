package dev.conclab.lab.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The calibration must see a machine whose two threads share one CPU. That machine is made on purpose: a child JVM
 * pinned to CPU 0 with {@code taskset}, where both calibration threads can only take turns.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ParallelCalibrationTest {

    /** Entry point of the pinned child: prints the calibration's worst speed-up. */
    public static void main(String[] args) throws InterruptedException {
        System.out.println(ParallelCalibration.worstTwoThreadSpeedup());
    }

    @Test
    void twoThreadsPinnedToOneCpuAreSeenAsNotParallel() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/taskset")), "needs taskset (util-linux)");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(List.of("/usr/bin/taskset", "-c", "0", java, "-cp",
                System.getProperty("java.class.path"), ParallelCalibrationTest.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isZero();
        double speedup = Double.parseDouble(out.lines().reduce((a, b) -> b).orElseThrow());
        // One CPU: two threads take twice as long as one, so about 1.0; well under the threshold.
        assertThat(speedup).isLessThan(RunContext.PARALLEL_CALIBRATION).isGreaterThan(0.5);
    }
}
