package dev.conclab.lab.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import static org.assertj.core.api.Assertions.assertThat;

@EnabledOnOs(OS.LINUX)
class CpuShareTest {

    @Test
    void aProcessBurningACoreCountsAsOthersWhileItRuns() throws Exception {
        CpuShare window = CpuShare.start().orElseThrow();
        // Not waited for until after the reading: its CPU time is not yet this process's.
        Process burner = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
        try {
            Thread.sleep(800);
            assertThat(window.othersCores()).hasValueSatisfying(cores -> assertThat(cores).isGreaterThan(0.5));
        } finally {
            burner.destroyForcibly().waitFor();
        }
    }

    @Test
    void thisProcessBurningACoreIsCountedAsItsOwn() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long before = CpuShare.selfBusyTicks();
        // Burn until this thread has had 0.5 s of CPU, however long a busy machine takes to lend it.
        long until = threads.getCurrentThreadCpuTime() + 500_000_000L;
        long x = 1;
        while (threads.getCurrentThreadCpuTime() < until) {
            for (int i = 0; i < 100_000; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
        }
        // 0.5 s of this thread's CPU is 50 ticks of this process's; allow for tick rounding.
        assertThat(CpuShare.selfBusyTicks() - before).as("ticks, with x=" + x).isGreaterThanOrEqualTo(40);
    }
}
