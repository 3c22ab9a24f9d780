package dev.conclab.toolkit.diagnostics.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM the doctor attached to and then killed leaves its attach socket in /tmp; {@link SickJvmProcess#close()}
 * deletes it, and {@link AttachSocket#deleteLeftBy} leaves a live JVM's socket alone.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AttachSocketTest {

    private final Doctor doctor = new Doctor(1, Duration.ofMillis(100), 4, 512, 2);

    @Test
    void closingAnAttachedSickJvmDeletesTheSocketItsKillLeaves() throws Exception {
        Path socket;
        try (SickJvmProcess sick = SickJvmProcess.start(Duration.ofSeconds(30), "healthy")) {
            doctor.diagnose(sick.pid());
            socket = AttachSocket.of(sick.pid());
            assertThat(socket).as("made by the doctor's attach").exists();
        }
        assertThat(socket).as("deleted by close, after the SIGKILL").doesNotExist();
    }

    @Test
    void aLiveJvmKeepsItsSocketAndAKilledOneLeavesIt() throws Exception {
        Process p = dev.conclab.toolkit.process.JvmLauncher.ofCurrentJvm().start(SickJvm.class, "healthy");
        Path socket = AttachSocket.of(p.pid());
        try {
            SickJvmProcess.awaitReady(p, Duration.ofSeconds(30));
            doctor.diagnose(p.pid());
            assertThat(AttachSocket.deleteLeftBy(p.toHandle())).as("alive: nothing deleted").isFalse();
            assertThat(socket).exists();
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(socket).as("HotSpot removes it only on a normal exit").exists();
            assertThat(AttachSocket.deleteLeftBy(p.toHandle())).isTrue();
            assertThat(socket).doesNotExist();
            assertThat(AttachSocket.deleteLeftBy(p.toHandle())).as("already gone").isFalse();
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            Files.deleteIfExists(socket);
        }
    }
}
