package dev.conclab.lab.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

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
        long before = CpuShare.selfBusyTicks();
        long end = System.nanoTime() + 800_000_000L;
        long x = 1;
        while (System.nanoTime() < end) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        // 0.8 s of one busy thread is 80 ticks; the machine may have lent it only part of a core.
        assertThat(CpuShare.selfBusyTicks() - before).as("ticks, with x=" + x).isGreaterThan(30);
    }
}
