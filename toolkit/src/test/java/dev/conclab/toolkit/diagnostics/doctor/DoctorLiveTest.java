package dev.conclab.toolkit.diagnostics.doctor;

import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The doctor against live JVMs made sick on purpose ({@link SickJvm}); every child is stopped after each test. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DoctorLiveTest {
    private final List<Process> children = new ArrayList<>();
    private final Doctor doctor = new Doctor(2, Duration.ofMillis(200), 4, 512, 2);

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private long sick(String... args) throws IOException {
        Process p = JvmLauncher.ofCurrentJvm().withOptions("-Xss256k", "--enable-native-access=ALL-UNNAMED")
                .start(SickJvm.class, args);
        children.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            if (line.equals(SickJvm.READY)) {
                return p.pid();
            }
        }
        throw new IllegalStateException("sick JVM exited before it was ready: " + String.join(" ", args));
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
    void badTargetsGetOneClearLine() {
        assertThatThrownBy(() -> doctor.diagnose(-1)).isInstanceOf(DoctorException.class)
                .hasMessageContaining("not a process id");
        assertThatThrownBy(() -> doctor.diagnose(Integer.MAX_VALUE - 7)).isInstanceOf(DoctorException.class)
                .hasMessageContaining("no process");
        assertThatThrownBy(() -> doctor.diagnose(1)).isInstanceOf(DoctorException.class)
                .hasMessageMatching("process 1 (belongs to|is not a JVM).*");
    }
}
