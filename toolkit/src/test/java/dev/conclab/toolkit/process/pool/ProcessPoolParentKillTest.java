package dev.conclab.toolkit.process.pool;

import dev.conclab.toolkit.process.JvmLauncher;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessPoolParentKillTest {

    /** A parent JVM that owns a pool: prints its workers' pids, then waits to be killed. */
    public static final class PoolOwner {
        public static void main(String[] args) throws Exception {
            ProcessPool pool = ProcessPool.of(2);
            // one call per worker, so that both are up; then report who they are
            pool.map(TaskRef.of(PoolTasks.class, "square"), List.of(1, 2), 1);
            while (pool.workerPids().size() < 2) {
                Thread.sleep(10);
            }
            System.out.println(pool.workerPids().get(0) + " " + pool.workerPids().get(1));
            System.out.flush();
            pool.applyAsync(TaskRef.of(PoolTasks.class, "sleepMillis"), 600_000); // one worker mid-task
            Thread.sleep(600_000);
        }
    }

    @Test
    void noWorkerSurvivesAKillDashNineOfThePoolsJvm() throws Exception {
        Process owner = JvmLauncher.ofCurrentJvm().start(PoolOwner.class);
        List<ProcessHandle> workers = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(),
                StandardCharsets.US_ASCII))) {
            for (String pid : out.readLine().strip().split(" ")) {
                workers.add(ProcessHandle.of(Long.parseLong(pid)).orElseThrow());
            }
            assertThat(workers).allMatch(ProcessHandle::isAlive);

            owner.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
            owner.waitFor(10, TimeUnit.SECONDS);
            long killed = System.nanoTime();

            for (ProcessHandle worker : workers) {
                worker.onExit().get(10, TimeUnit.SECONDS);
            }
            Duration lag = Duration.ofNanos(System.nanoTime() - killed);
            assertThat(workers).noneMatch(ProcessHandle::isAlive);
            assertThat(lag).as("workers exit within a couple of seconds of their parent").isLessThan(Duration.ofSeconds(3));
        } finally {
            owner.destroyForcibly().waitFor();
            workers.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
