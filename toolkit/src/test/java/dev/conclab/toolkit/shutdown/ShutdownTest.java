package dev.conclab.toolkit.shutdown;

import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.shutdown.ShutdownReport.Fate;
import dev.conclab.toolkit.shutdown.ShutdownReport.Phase;
import dev.conclab.toolkit.shutdown.ShutdownReport.ProcessFate;
import dev.conclab.toolkit.shutdown.ShutdownReport.ProcessResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ShutdownTest {

    /** Every thread and process a test starts; all must be gone after it. */
    private final Queue<Thread> started = new ConcurrentLinkedQueue<>();
    private final Queue<ProcessHandle> processes = new ConcurrentLinkedQueue<>();
    private final Queue<ExecutorService> pools = new ConcurrentLinkedQueue<>();
    /** Released after each test: work blocked on it (even work that swallows interrupts) then ends. */
    private final CountDownLatch release = new CountDownLatch(1);

    private final ThreadFactory threads = r -> {
        Thread t = new Thread(r, "shutdown-test-" + started.size());
        started.add(t);
        return t;
    };

    @AfterEach
    void nothingIsLeftRunning() {
        release.countDown();
        pools.forEach(ExecutorService::shutdownNow);
        processes.forEach(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(started).noneMatch(Thread::isAlive);
            assertThat(processes).noneMatch(ProcessHandle::isAlive);
            assertThat(ProcessHandle.current().children()).isEmpty();
        });
    }

    private ExecutorService pool(int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, this.threads);
        pools.add(pool);
        return pool;
    }

    /** Waits on {@link #release}, swallowing every interrupt: work that cannot be stopped from outside. */
    private void ignoreInterrupts(AtomicInteger ignored) {
        while (true) {
            try {
                release.await();
                return;
            } catch (InterruptedException e) {
                ignored.incrementAndGet();
            }
        }
    }

    @Test
    void inFlightWorkThatFinishesWithinTheDeadlineCompletes() throws Exception {
        ExecutorService pool = pool(2);
        CountDownLatch running = new CountDownLatch(2);
        CountDownLatch stopAccepting = new CountDownLatch(1);
        AtomicInteger completed = new AtomicInteger();
        for (int i = 0; i < 2; i++) {
            pool.submit(() -> {
                running.countDown();
                stopAccepting.await(); // in flight until the shutdown has begun, then finishes by itself
                completed.incrementAndGet();
                return null;
            });
        }
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        Shutdown shutdown = new Shutdown();
        shutdown.onStopAccepting("intake", stopAccepting::countDown);
        shutdown.register("workers", pool);

        ShutdownReport report = shutdown.shutdown(Duration.ofSeconds(10));

        assertThat(completed).hasValue(2);
        assertThat(report.clean()).as(report.describe()).isTrue();
        assertThat(report.executors()).singleElement().satisfies(e -> {
            assertThat(e.fate()).isEqualTo(Fate.FINISHED);
            assertThat(e.neverStarted()).isEmpty();
        });
        assertThat(report.phases()).extracting(ShutdownReport.PhaseTime::phase).containsExactly(
                Phase.STOP_ACCEPTING, Phase.DRAIN, Phase.INTERRUPT, Phase.TERMINATE_PROCESSES);
        assertThatThrownBy(() -> pool.submit(() -> { })).isInstanceOf(RejectedExecutionException.class);
        assertThat(shutdown.state()).isEqualTo(Shutdown.State.TERMINATED);
    }

    @Test
    void aStopHookClosesAServerSocketSoNoNewConnectionIsAccepted() throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicBoolean acceptorSawClose = new AtomicBoolean();
        Thread acceptor = threads.newThread(() -> {
            try {
                while (true) {
                    server.accept().close();
                }
            } catch (java.io.IOException closed) {
                acceptorSawClose.set(true);
            }
        });
        acceptor.start();
        Shutdown shutdown = new Shutdown().onStopAccepting("server socket", server::close);
        shutdown.register("acceptor", acceptor);

        ShutdownReport report = shutdown.shutdown(Duration.ofSeconds(10));

        assertThat(server.isClosed()).isTrue();
        assertThat(acceptorSawClose).isTrue();
        assertThat(report.threads()).singleElement().extracting(ShutdownReport.ThreadResult::fate)
                .isEqualTo(Fate.FINISHED);
    }

    @Test
    void whenTheDeadlineExpiresMidDrainTheRestIsInterrupted() throws Exception {
        ExecutorService pool = pool(1);
        CountDownLatch running = new CountDownLatch(1);
        AtomicBoolean sawInterrupt = new AtomicBoolean();
        pool.submit(() -> {
            running.countDown();
            try {
                release.await(); // would run past the deadline; stops when interrupted
            } catch (InterruptedException e) {
                sawInterrupt.set(true);
            }
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        Shutdown shutdown = new Shutdown(Duration.ofSeconds(5), Duration.ofSeconds(1));
        shutdown.register("workers", pool);

        long start = System.nanoTime();
        ShutdownReport report = shutdown.shutdown(Duration.ofMillis(200));
        double tookMs = (System.nanoTime() - start) / 1e6;

        assertThat(sawInterrupt).isTrue();
        assertThat(report.executors().getFirst().fate()).isEqualTo(Fate.ENDED_AFTER_INTERRUPT);
        assertThat(report.took(Phase.DRAIN).toMillis()).isBetween(150L, 4_000L);
        // The grace is 5 s, but interrupted work ended at once: the shutdown did not wait the grace out.
        assertThat(tookMs).isLessThan(4_000);
        assertThat(report.clean()).isFalse();
    }

    @Test
    void workThatIgnoresInterruptsIsReportedAbandonedByNameAndQueuedTasksAsNeverStarted() throws Exception {
        AtomicInteger ignored = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(1);
        Thread stubborn = threads.newThread(() -> {
            running.countDown();
            ignoreInterrupts(ignored);
        });
        stubborn.start();
        ExecutorService pool = pool(1);
        pool.submit(() -> ignoreInterrupts(ignored));
        List<CompletableFuture<Void>> queued = List.of(new CompletableFuture<>(), new CompletableFuture<>(),
                new CompletableFuture<>());
        queued.forEach(q -> pool.execute(() -> q.complete(null)));
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        Shutdown shutdown = new Shutdown(Duration.ofMillis(200), Duration.ofSeconds(1));
        shutdown.register("copy loop", stubborn);
        shutdown.register("workers", pool);
        ShutdownReport report = shutdown.shutdown(Duration.ofMillis(100));

        assertThat(report.abandoned()).containsExactly("workers", "copy loop");
        assertThat(report.threads().getFirst().fate()).isEqualTo(Fate.ABANDONED);
        assertThat(report.executors().getFirst().neverStarted()).hasSize(3);
        assertThat(report.neverStartedCount()).isEqualTo(3);
        assertThat(queued).noneMatch(CompletableFuture::isDone);
        assertThat(ignored).hasValue(2);
        assertThat(stubborn.isAlive()).isTrue();

        // The test's own clean-up: let the stubborn work end, so nothing outlives the test.
        release.countDown();
        stubborn.join(10_000);
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aChildProcessIsTerminatedAndReported() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        processes.add(sleeper.toHandle());
        Shutdown shutdown = new Shutdown(Duration.ofMillis(100), Duration.ofSeconds(5));
        shutdown.register("sleep 60", sleeper);

        ShutdownReport report = shutdown.shutdown(Duration.ofMillis(100));

        assertThat(sleeper.isAlive()).isFalse();
        ProcessResult result = report.processes().getFirst();
        assertThat(result.pid()).isEqualTo(sleeper.pid());
        assertThat(result.fate()).isEqualTo(ProcessFate.TERMINATED); // sleep dies of SIGTERM: no SIGKILL needed
        assertThat(report.took(Phase.TERMINATE_PROCESSES).toMillis()).isLessThan(4_000);
    }

    @Test
    void aChildThatIgnoresSigtermIsKilledWithItsDescendants() throws Exception {
        // The shell ignores SIGTERM, and so does the sleep it starts (an ignored signal stays ignored across exec).
        // Once that sleep is gone the shell becomes another stubborn sleep, so the root itself must be killed.
        Process shell = new ProcessBuilder("sh", "-c", "trap '' TERM; sleep 60 & wait; exec sleep 61").start();
        processes.add(shell.toHandle());
        await().atMost(Duration.ofSeconds(10)).until(() -> shell.descendants().count() == 1);
        ProcessHandle grandchild = shell.descendants().findFirst().orElseThrow();
        processes.add(grandchild);
        Shutdown shutdown = new Shutdown(Duration.ofMillis(100), Duration.ofMillis(300));
        shutdown.register("stubborn shell", shell);

        ShutdownReport report = shutdown.shutdown(Duration.ofMillis(100));

        ProcessResult result = report.processes().getFirst();
        assertThat(result.fate()).isEqualTo(ProcessFate.KILLED);
        assertThat(result.descendants()).containsExactly(grandchild.pid());
        assertThat(result.descendantsAlive()).isZero();
        assertThat(shell.isAlive()).isFalse();
        assertThat(grandchild.isAlive()).isFalse();
        assertThat(report.took(Phase.TERMINATE_PROCESSES).toMillis()).isGreaterThanOrEqualTo(250);
    }

    @Test
    void shutdownIsIdempotentAndConcurrentCallersGetTheSameReport() throws Exception {
        ExecutorService pool = pool(1);
        CountDownLatch running = new CountDownLatch(1);
        pool.submit(() -> {
            running.countDown();
            release.await();
            return null;
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        Shutdown shutdown = new Shutdown(Duration.ofMillis(100), Duration.ofMillis(100));
        shutdown.register("workers", pool);

        // The second caller starts while the first is draining (the task holds the drain open until released).
        CompletableFuture<ShutdownReport> first = CompletableFuture.supplyAsync(() -> call(shutdown),
                r -> Thread.ofVirtual().start(r));
        await().atMost(Duration.ofSeconds(10)).until(() -> shutdown.state() == Shutdown.State.DRAINING);
        CompletableFuture<ShutdownReport> second = CompletableFuture.supplyAsync(() -> call(shutdown),
                r -> Thread.ofVirtual().start(r));
        release.countDown();

        ShutdownReport report = first.get(10, TimeUnit.SECONDS);
        assertThat(second.get(10, TimeUnit.SECONDS)).isSameAs(report);
        assertThat(shutdown.shutdown(Duration.ofMillis(1))).isSameAs(report);
        assertThat(shutdown.report()).containsSame(report);
        assertThat(report.executors().getFirst().fate()).isEqualTo(Fate.FINISHED);
        assertThatThrownBy(() -> shutdown.register("late", pool(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("late");
    }

    private static ShutdownReport call(Shutdown shutdown) {
        try {
            return shutdown.shutdown(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        Shutdown shutdown = new Shutdown();
        assertThatThrownBy(() -> shutdown.shutdown(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("deadline");
        assertThatThrownBy(() -> shutdown.shutdown(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deadline must be positive");
        assertThatThrownBy(() -> shutdown.shutdown(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> shutdown.register("x", (ExecutorService) null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("executor");
        assertThatThrownBy(() -> shutdown.register(null, Thread.ofVirtual().unstarted(() -> { })))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> shutdown.register(" ", ProcessHandle.current()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blank");
        assertThatThrownBy(() -> shutdown.onStopAccepting("x", null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("action");
        assertThatThrownBy(() -> new Shutdown(Duration.ofMillis(-1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interruptGrace");
        assertThatThrownBy(() -> shutdown.installJvmHook(Duration.ZERO, r -> { }))
                .isInstanceOf(IllegalArgumentException.class);
        // Bad input changed nothing: the coordinator is still open.
        assertThat(shutdown.state()).isEqualTo(Shutdown.State.OPEN);
    }

    /** A service in a child JVM: a worker loop, stopped by the JVM hook that SIGTERM runs. */
    public static final class HookedService {
        public static void main(String[] args) throws Exception {
            AtomicBoolean accepting = new AtomicBoolean(true);
            AtomicInteger handled = new AtomicInteger();
            Thread worker = new Thread(() -> {
                while (accepting.get()) {
                    handled.incrementAndGet();
                    try {
                        Thread.sleep(5); // one unit of "work"
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                System.out.println("worker drained after " + (handled.get() > 0 ? "some" : "no") + " work");
            }, "worker");
            Shutdown shutdown = new Shutdown();
            shutdown.onStopAccepting("intake", () -> accepting.set(false));
            shutdown.register("worker", worker);
            shutdown.installJvmHook(Duration.ofSeconds(5), report -> {
                System.out.println("clean=" + report.clean() + " " + report.threads());
                System.out.flush();
            });
            worker.start();
            System.out.println("ready");
            System.out.flush();
            worker.join();
        }
    }

    @Test
    void asJvmHookSigtermDrainsTheWorkerBeforeTheJvmExits() throws Exception {
        Process child = JvmLauncher.ofCurrentJvm().start(HookedService.class);
        processes.add(child.toHandle());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            // SIGTERM, as `kill PID` or a container stop would send. Through the handle: Process.destroy() would
            // also close our end of the child's output, which we still want to read.
            child.toHandle().destroy();

            List<String> lines = out.lines().toList(); // to the end of the stream: the child has exited
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(lines).contains("worker drained after some work");
            assertThat(lines).anyMatch(l -> l.startsWith("clean=true") && l.contains("FINISHED"));
            assertThat(child.exitValue()).isEqualTo(143); // 128 + SIGTERM: the JVM exits as killed, after its hooks
        } finally {
            child.destroyForcibly();
        }
    }
}
