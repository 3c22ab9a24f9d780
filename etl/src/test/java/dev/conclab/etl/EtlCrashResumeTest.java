package dev.conclab.etl;

import dev.conclab.etl.checkpoint.CheckpointStore;
import dev.conclab.etl.input.OrderGenerator;
import dev.conclab.etl.input.RangeSplitter;
import dev.conclab.etl.parse.RecordFormat;

import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 at random points, several times, then a restart to the end: the output and the reject file must equal,
 * byte for byte, those of a run never interrupted (no record lost, none counted twice).
 */
class EtlCrashResumeTest {
    private static final long RANGE_BYTES = 24_000;
    /** The most commits a child may make after its target, while the kill is on its way. */
    private static final int EXTRA_COMMITS = 3;
    @TempDir Path tmp;

    @Test
    void killedRunsResumeToTheSameOutputByteForByte() throws Exception {
        Path input = tmp.resolve("in");
        new OrderGenerator().generate(new OrderGenerator.Spec(input, 2_000_000, 3, RecordFormat.CSV, false, 0.005, 11));
        int ranges = new RangeSplitter(RANGE_BYTES).split(EtlJob.inputFiles(input, RecordFormat.CSV)).size();

        Path expected = tmp.resolve("expected.csv");
        new EtlJob(new EtlJob.Config(input, RecordFormat.CSV, expected.toString(), 2, tmp.resolve("cp-expected.db"), null,
                RANGE_BYTES), p -> {}).run();

        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        Path out = tmp.resolve("out.csv");
        Path checkpoint = tmp.resolve("cp.db");
        // sqlite-jdbc extracts its native library into org.sqlite.tmpdir and deletes it at exit; a SIGKILLed child
        // never exits, so point it at this test's directory instead of leaving a copy in /tmp per kill.
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-Xmx128m", "-Dorg.sqlite.tmpdir=" + tmp);
        int kills = 0, committed = 0;
        for (int round = 0; round < 12 && kills < 4; round++) {
            // Kill after a random number of further commits, plus up to EXTRA_COMMITS more granted with a random
            // delay, so the kill also lands mid-scan, mid-commit or mid-load. The child commits only what it is
            // granted (EtlCrashChild), so a round uses at most half the ranges left plus EXTRA_COMMITS however fast
            // the child runs: with about 83 ranges, the first three rounds always end in a kill.
            int target = random.nextInt(1, Math.max(2, (ranges - committed) / 2));
            int extra = random.nextInt(0, EXTRA_COMMITS + 1);
            Process child = launcher.start(EtlCrashChild.class, input.toString(), out.toString(), checkpoint.toString(),
                    "2", Long.toString(RANGE_BYTES));
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                 Writer permits = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
                int seen = 0;
                String line;
                boolean finished = false;
                while ((line = lines.readLine()) != null) {
                    if (line.equals("done")) { finished = true; break; }
                    if (line.startsWith("committed") && ++seen >= target) break;
                    permits.write("go\n");
                    permits.flush();
                }
                if (!finished) {
                    permits.write("go\n".repeat(extra));
                    permits.flush();
                    Thread.sleep(random.nextInt(0, 15));
                    child.destroyForcibly(); // SIGKILL: no shutdown hook, no finally
                    kills++;
                }
            } catch (IOException e) {
                // the child finished or was killed while the permits were written: its pipe is closed
            } finally {
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            try (CheckpointStore store = CheckpointStore.open(checkpoint)) {
                committed = (int) store.counters().ranges();
            }
        }
        System.out.printf("crash-resume: %d kills, %d of %d ranges committed before the last run, seed %d%n", kills, committed, ranges, seed);
        assertThat(kills).as("kills (seed %d)", seed).isGreaterThanOrEqualTo(3);
        assertThat(committed).as("progress kept across kills (seed %d)", seed).isBetween(1, ranges);

        EtlJob.Result last = new EtlJob(new EtlJob.Config(input, RecordFormat.CSV, out.toString(), 2, checkpoint, null,
                RANGE_BYTES), p -> {}).run();
        assertThat(last.resumedRanges() + last.scannedRanges()).isEqualTo(ranges);
        assertThat(Files.readAllBytes(out)).as("output (seed %d)", seed).isEqualTo(Files.readAllBytes(expected));
        assertThat(Files.readAllBytes(Path.of(out + ".rejects.csv"))).as("rejects (seed %d)", seed)
                .isEqualTo(Files.readAllBytes(Path.of(expected + ".rejects.csv")));
    }
}
