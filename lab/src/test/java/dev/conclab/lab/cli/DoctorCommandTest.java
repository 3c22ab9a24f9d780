package dev.conclab.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conclab.lab.cli.CliRun.Outcome;
import dev.conclab.toolkit.diagnostics.doctor.SickJvmProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.conclab.lab.cli.CliRun.conclab;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code conclab doctor} on bad input and on live JVMs this test starts; every child is stopped after each test. */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DoctorCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<SickJvmProcess> sickJvms = new ArrayList<>();
    private Process sleep;

    @AfterEach
    void stopChildren() throws InterruptedException {
        sickJvms.forEach(SickJvmProcess::close);
        if (sleep != null) {
            sleep.destroyForcibly();
            sleep.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private SickJvmProcess sick(String mode) throws Exception {
        SickJvmProcess p = SickJvmProcess.start(Duration.ofSeconds(30), mode);
        sickJvms.add(p);
        return p;
    }

    @Test
    void aPidWithNoProcessIsOneLineAndStatusTwo() {
        Outcome o = conclab("doctor", Long.toString(Integer.MAX_VALUE - 7));
        assertThat(o.status()).isEqualTo(2);
        assertThat(o.err().strip()).isEqualTo("conclab: no process with pid " + (Integer.MAX_VALUE - 7));
    }

    @Test
    void aPidThatIsNotANumberIsStatusTwo() {
        Outcome o = conclab("doctor", "twelve");
        assertThat(o.status()).isEqualTo(2);
        assertThat(o.err().strip()).contains("twelve").doesNotContain("\n");
    }

    @Test
    void aLiveProcessThatIsNotAJvmIsOneLineAndStatusTwo() throws Exception {
        sleep = new ProcessBuilder("sleep", "60").start();
        // A JVM killed earlier with this pid may have left its attach socket; it is stale (sleep is no JVM), and
        // the doctor would rightly name it instead (DoctorLiveTest covers that case).
        Files.deleteIfExists(Path.of("/tmp/.java_pid" + sleep.pid()));
        Outcome o = conclab("doctor", Long.toString(sleep.pid()));
        assertThat(o.status()).isEqualTo(2);
        assertThat(o.err().strip()).isEqualTo("conclab: process " + sleep.pid()
                + " (sleep) is not a JVM that accepts attachment: it does not answer the JDK's attach handshake");
        assertThat(sleep.isAlive()).as("the doctor must not harm a process it cannot attach to").isTrue();
    }

    @Test
    void jsonNamesTheDeadlockWithItsEvidence() throws Exception {
        SickJvmProcess p = sick("deadlock-locks");
        Outcome o = conclab("doctor", Long.toString(p.pid()), "--json", "--samples", "2", "--interval", "100");
        assertThat(o.status()).as(o.err()).isZero();
        JsonNode root = JSON.readTree(o.out());
        assertThat(root.path("pid").asLong()).isEqualTo(p.pid());
        JsonNode deadlock = root.path("findings").get(0);
        assertThat(deadlock.path("kind").asText()).isEqualTo("Deadlock");
        List<String> threads = new ArrayList<>();
        deadlock.path("evidence").path("cycle").forEach(e -> threads.add(e.path("thread").asText()));
        assertThat(threads).containsExactlyInAnyOrder("lock-x-then-y", "lock-y-then-x");
        assertThat(deadlock.path("evidence").path("cycle").get(0).path("waitsAt").asText()).contains("SickJvm");
        assertThat(deadlock.path("summary").asText()).startsWith("DEADLOCK of 2 threads");
    }

    @Test
    void watchEndsWhenTheTargetExits() throws Exception {
        SickJvmProcess p = sick("healthy");
        CompletableFuture<Outcome> watching = CompletableFuture.supplyAsync(
                () -> conclab("doctor", Long.toString(p.pid()), "--watch", "--samples", "1", "--interval", "50"),
                runnable -> Thread.ofVirtual().start(runnable));
        // Let one round of jcmd finish before the target goes: the watch must have seen it alive once.
        awaitAJcmdRunByThisJvm();
        p.close();
        Outcome o = watching.get(30, TimeUnit.SECONDS);
        assertThat(o.status()).as(o.err()).isZero();
        assertThat(o.out()).contains("pid " + p.pid() + ": ");
        assertThat(o.out().strip().lines().toList().getLast())
                .matches("pid " + p.pid() + " exited after [1-9]\\d* round\\(s\\); watch ended");
    }

    /** Waits until a jcmd child of this JVM has started and ended: one sampling round is then done. */
    private static void awaitAJcmdRunByThisJvm() throws InterruptedException {
        ProcessHandle jcmd = null;
        while (jcmd == null) {
            jcmd = ProcessHandle.current().children()
                    .filter(c -> c.info().command().map(cmd -> cmd.endsWith("/jcmd") || cmd.endsWith("/java")
                            && c.info().arguments().map(a -> String.join(" ", a).contains("jcmd")).orElse(false))
                            .orElse(false))
                    .findFirst().orElse(null);
            Thread.sleep(5);
        }
        jcmd.onExit().join();
    }
}
