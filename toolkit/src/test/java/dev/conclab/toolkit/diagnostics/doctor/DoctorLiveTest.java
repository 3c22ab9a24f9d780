package dev.conclab.toolkit.diagnostics.doctor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The doctor against live JVMs made sick on purpose ({@link SickJvm}); every child is stopped after each test. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DoctorLiveTest {
    private final List<SickJvmProcess> children = new ArrayList<>();
    private final Doctor doctor = new Doctor(2, Duration.ofMillis(200), 4, 512, 2);

    @AfterEach
    void stopChildren() {
        children.forEach(SickJvmProcess::close);
    }

    private long sick(String... args) throws IOException, InterruptedException {
        SickJvmProcess p = SickJvmProcess.start(Duration.ofSeconds(30), args);
        children.add(p);
        return p.pid();
    }

    @Test
    void findsAMonitorDeadlock() throws Exception {
        Diagnosis d = doctor.diagnose(sick("deadlock-monitors"));
        assertThat(d.findings(Finding.Deadlock.class)).singleElement()
                .satisfies(f -> assertThat(f.summary()).contains("transfer-a-to-b", "transfer-b-to-a", "SickJvm"));
    }

    @Test
    void findsAReentrantLockDeadlock() throws Exception {
        Diagnosis d = doctor.diagnose(sick("deadlock-locks"));
        assertThat(d.findings(Finding.Deadlock.class)).singleElement()
                .satisfies(f -> assertThat(f.summary()).contains("lock-x-then-y", "lock-y-then-x", "ReentrantLock"));
    }

    @Test
    void findsAStall() throws Exception {
        Diagnosis d = doctor.diagnose(sick("stall"));
        assertThat(d.findings(Finding.Stall.class)).singleElement()
                .satisfies(f -> assertThat(f.summary()).contains("spinner", "spinForever"));
    }

    @Test
    void findsAHotSpot() throws Exception {
        Diagnosis d = doctor.diagnose(sick("contention"));
        assertThat(d.findings(Finding.ContentionHotSpot.class)).singleElement()
                .satisfies(f -> assertThat(f.owner()).isEqualTo("hot-holder"))
                .satisfies(f -> assertThat(f.waiters()).hasSize(6));
    }

    @Test
    void findsTwoThousandThreads() throws Exception {
        Diagnosis d = doctor.diagnose(sick("threads", "2000"));
        assertThat(d.findings(Finding.ThreadOveruse.class)).singleElement()
                .satisfies(f -> assertThat(f.byPool()).containsEntry("worker", 2000));
    }

    @Test
    void findsChildProcesses() throws Exception {
        Diagnosis d = doctor.diagnose(sick("children"));
        assertThat(d.findings(Finding.ChildProcesses.class)).singleElement()
                .satisfies(f -> assertThat(f.pids()).hasSize(1));
    }

    @Test
    void findsVirtualThreadsPinnedInANativeCall() throws Exception {
        Diagnosis d = doctor.diagnose(sick("pinned", "2"));
        assertThat(d.findings(Finding.PinnedVirtualThread.class)).hasSize(2).allSatisfy(f -> {
            assertThat(f.virtualThread()).matches("\"pinned-in-qsort-[01]\" #\\d+");
            assertThat(f.carrier()).startsWith("ForkJoinPool-");
            assertThat(f.blocksAt()).contains("SickJvm.compareAndPark");
            assertThat(f.pinnedBy()).contains("UpcallStub");
            assertThat(f.nativeCallSite()).contains("SickJvm.lambda$pinned$");
            assertThat(f.summary()).contains("runs no other virtual thread");
        });
        assertThat(d.findings(Finding.PinnedVirtualThread.class).stream().map(Finding.PinnedVirtualThread::carrier))
                .doesNotHaveDuplicates();
    }

    @Test
    void parkedVirtualThreadsAreNotPinned() throws Exception {
        Diagnosis d = doctor.diagnose(sick("virtual-parked", "2000"));
        assertThat(d.findings()).isEmpty();
    }

    @Test
    void raisesNoAlarmOnAHealthyJvm() throws Exception {
        Diagnosis d = doctor.diagnose(sick("healthy"));
        assertThat(d.findings()).isEmpty();
        assertThat(d.threads()).isBetween(5, 100);
    }

    @Test
    void aSickJvmThatNeverGetsReadyIsKilledWithAClearLine() throws Exception {
        Process never = new ProcessBuilder("sleep", "60").start();
        try {
            assertThatThrownBy(() -> SickJvmProcess.awaitReady(never, Duration.ofMillis(300)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("the sick JVM (pid " + never.pid() + ") was not ready within 300 ms; killed");
            assertThat(never.waitFor(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            never.destroyForcibly();
        }
    }

    @Test
    void closingASickJvmTheDoctorAttachedToLeavesNoAttachSocket() throws Exception {
        SickJvmProcess p = SickJvmProcess.start(Duration.ofSeconds(30), "healthy");
        children.add(p);
        doctor.diagnose(p.pid());
        Path socket = AttachSocket.of(p.pid());
        assertThat(socket).as("the attach made the JVM open its socket").exists();
        p.close(); // SIGKILL: the JVM cannot delete its socket itself
        assertThat(socket).doesNotExist();
    }

    /**
     * A socket left by a killed JVM whose pid a new process reuses refuses every attach; the doctor names the file
     * and what to do instead of calling the process "not a JVM". Forced: the test plants such a socket for a live
     * {@code sleep} (no JVM ever listens on it) and dates it before the process started.
     */
    @Test
    void aStaleAttachSocketIsNamedWithItsRemedy() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "60").start();
        Path socket = AttachSocket.of(sleep.pid());
        try {
            Files.deleteIfExists(socket); // a stale one from an earlier process with this pid: sleep is no JVM
            try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                listener.bind(UnixDomainSocketAddress.of(socket));
            } // closed: the file stays, and a connection to it is refused, as after a SIGKILL
            Instant started = sleep.toHandle().info().startInstant().orElseThrow();
            Files.setLastModifiedTime(socket, FileTime.from(started.minus(Duration.ofHours(1))));

            assertThatThrownBy(() -> doctor.diagnose(sleep.pid())).isInstanceOf(DoctorException.class)
                    .hasMessage("cannot attach to process " + sleep.pid() + " (sleep): " + socket + " is a stale"
                            + " attach socket, older than the process (an earlier process with this pid was killed);"
                            + " delete it and try again");
            assertThat(sleep.isAlive()).isTrue();
            assertThat(socket).as("the doctor names the file; it does not delete it").exists();
        } finally {
            Files.deleteIfExists(socket);
            sleep.destroyForcibly();
            sleep.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void badTargetsGetOneClearLine() {
        assertThatThrownBy(() -> doctor.diagnose(-1)).isInstanceOf(DoctorException.class)
                .hasMessageContaining("not a process id");
        assertThatThrownBy(() -> doctor.diagnose(Integer.MAX_VALUE - 7)).isInstanceOf(DoctorException.class)
                .hasMessageContaining("no process");
        assertThatThrownBy(() -> doctor.diagnose(1)).isInstanceOf(DoctorException.class)
                .hasMessageMatching("process 1 (belongs to|is not a JVM).*");
    }
}
