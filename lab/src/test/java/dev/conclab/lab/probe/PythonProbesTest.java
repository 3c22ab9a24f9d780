package dev.conclab.lab.probe;

import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.ProgressListener;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Runner;
import dev.conclab.lab.engine.Verdict;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PythonProbesTest {

    private static final ClaimSpec NEEDS_PYTHON = new ClaimSpec("needs-python", "A claim measured in CPython.");

    /** Runs {@code body} inside a real run, so probes get a context; returns what the body produced. */
    private static <T> T inRun(ProbeBody<T> body) throws Exception {
        AtomicReference<T> out = new AtomicReference<>();
        AtomicReference<Exception> error = new AtomicReference<>();
        Experiment experiment = new Experiment() {
            public String id() { return "probe-test"; }
            public String title() { return "probe test"; }
            public String description() { return "runs a probe"; }
            public List<Param> params() { return List.of(); }
            public List<ClaimSpec> claims() { return List.of(NEEDS_PYTHON); }
            public void run(RunContext ctx) {
                try {
                    out.set(body.run(ctx));
                } catch (Exception e) {
                    error.set(e);
                }
                if (out.get() instanceof ProbeOutcome.Unavailable u) {
                    u.skip(ctx, NEEDS_PYTHON);
                } else {
                    ctx.claim(NEEDS_PYTHON, Verdict.check(true, "ran"));
                }
            }
        };
        RunRecord record = new Runner(Optional.empty()).run(experiment,
                ParamValues.resolve(List.of(), Map.of(), true), true, ProgressListener.NONE);
        if (error.get() != null) {
            throw error.get();
        }
        lastRecord = record;
        return out.get();
    }

    private static RunRecord lastRecord;

    interface ProbeBody<T> {
        T run(RunContext ctx) throws Exception;
    }

    @Test
    void aMissingOverrideInterpreterMakesTheProbeUnavailableAndItsClaimsSkipped() throws Exception {
        InterpreterFinder finder = new InterpreterFinder(Optional.of("/nonexistent/python3"), List.of());

        ProbeOutcome outcome = inRun(ctx -> new PythonProbes(ctx, finder).run("test_echo.py", List.of(),
                Duration.ofSeconds(30)));

        assertThat(outcome).isEqualTo(new ProbeOutcome.Unavailable(
                "CONCLAB_PYTHON=/nonexistent/python3 is not a runnable Python interpreter"));
        assertThat(lastRecord.result().claims().getFirst().verdict()).isEqualTo(new Verdict.Skipped(
                "CONCLAB_PYTHON=/nonexistent/python3 is not a runnable Python interpreter"));
        assertThat(lastRecord.machine().python()).isNull();
    }

    @Test
    void noInterpreterOnTheMachineMakesTheProbeUnavailable() throws Exception {
        InterpreterFinder finder = new InterpreterFinder(Optional.empty(), List.of(Path.of("/nonexistent/python3")));

        ProbeOutcome outcome = inRun(ctx -> new PythonProbes(ctx, finder).run("test_echo.py", List.of(),
                Duration.ofSeconds(30)));

        assertThat(outcome).isInstanceOfSatisfying(ProbeOutcome.Unavailable.class,
                u -> assertThat(u.reason()).startsWith("no CPython interpreter found"));
    }

    @Test
    void aMissingLibraryNamesTheInterpreterAndTheLibrary() throws Exception {
        assumeTrue(InterpreterFinder.system().find(List.of()) instanceof InterpreterFinder.Found.Yes,
                "no CPython on this machine");

        ProbeOutcome outcome = inRun(ctx -> PythonProbes.of(ctx).run("test_echo.py",
                List.of("conclab_no_such_module"), Duration.ofSeconds(30)));

        assertThat(outcome).isInstanceOfSatisfying(ProbeOutcome.Unavailable.class,
                u -> assertThat(u.reason()).contains("lacks conclab_no_such_module"));
    }

    @Test
    void aProbeRunsWithItsArgumentsAndItsJsonIsRead() throws Exception {
        assumeTrue(InterpreterFinder.system().find(List.of()) instanceof InterpreterFinder.Found.Yes,
                "no CPython on this machine");

        ProbeOutcome outcome = inRun(ctx -> PythonProbes.of(ctx).run("test_echo.py", List.of(),
                Duration.ofSeconds(30), "--n", "3"));

        assertThat(outcome).isInstanceOfSatisfying(ProbeOutcome.Ran.class, ran -> {
            assertThat(ran.json().path("args").toString()).isEqualTo("[\"--n\",\"3\"]");
            assertThat(ran.interpreter().implementation()).isEqualTo("CPython");
        });
        assertThat(lastRecord.machine().python()).isNotBlank();
    }

    @Test
    void aCrashingProbeIsAnErrorWithItsStderrNotASkip() {
        assumeTrue(InterpreterFinder.system().find(List.of()) instanceof InterpreterFinder.Found.Yes,
                "no CPython on this machine");

        assertThatThrownBy(() -> inRun(ctx -> PythonProbes.of(ctx).run("test_crash.py", List.of(),
                Duration.ofSeconds(30))))
                .isInstanceOf(ProbeException.class)
                .hasMessageContaining("probe test_crash.py exited with status 1")
                .hasMessageContaining("the probe broke on purpose");
    }

    @Test
    void aChildLeftRunningByTheProbeNeitherBlocksTheRunNorOutlivesIt() throws Exception {
        assumeTrue(InterpreterFinder.system().find(List.of()) instanceof InterpreterFinder.Found.Yes,
                "no CPython on this machine");
        long started = System.nanoTime();

        ProbeOutcome outcome = inRun(ctx -> PythonProbes.of(ctx).run("test_orphan.py", List.of(),
                Duration.ofSeconds(30)));

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
        assertThat(outcome).isInstanceOfSatisfying(ProbeOutcome.Ran.class, ran -> {
            long child = ran.json().path("child").asLong();
            assertThat(child).isPositive();
            assertThat(ProcessHandle.of(child).filter(ProcessHandle::isAlive)).as("the orphaned child").isEmpty();
        });
    }

    @Test
    void whatAProbeLeavesInItsTempDirectoryIsDeletedWithIt() throws Exception {
        assumeTrue(InterpreterFinder.system().find(List.of()) instanceof InterpreterFinder.Found.Yes,
                "no CPython on this machine");

        ProbeOutcome outcome = inRun(ctx -> PythonProbes.of(ctx).run("test_tempfile.py", List.of(),
                Duration.ofSeconds(30)));

        assertThat(outcome).isInstanceOf(ProbeOutcome.Ran.class);
        ProbeOutcome.Ran ran = (ProbeOutcome.Ran) outcome;
        Path tmpdir = Path.of(ran.json().path("tmpdir").asText());
        Path left = Path.of(ran.json().path("left").asText());
        try {
            assertThat(tmpdir.getParent()).as("the probe's TMPDIR")
                    .isEqualTo(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath());
            assertThat(tmpdir.getFileName().toString()).startsWith("conclab-probe-");
            assertThat(left).as("deleted with the probe's TMPDIR").doesNotExist();
            assertThat(tmpdir).doesNotExist();
        } finally {
            if (Files.exists(left)) { // without a TMPDIR of its own the probe wrote into /tmp
                Files.deleteIfExists(left.resolve("listener"));
                Files.deleteIfExists(left);
            }
        }
    }
}
