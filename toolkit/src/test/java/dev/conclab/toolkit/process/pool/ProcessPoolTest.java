package dev.conclab.toolkit.process.pool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcessPoolTest {

    static final TaskRef SQUARE = TaskRef.of(PoolTasks.class, "square");
    static final TaskRef ADD = TaskRef.of(PoolTasks.class, "add");
    static final TaskRef PID = TaskRef.of(PoolTasks.class, "pid");
    static final TaskRef PID_OF = TaskRef.of(PoolTasks.class, "pidOf");
    static final TaskRef SLEEP = TaskRef.of(PoolTasks.class, "sleepMillis");
    static final TaskRef FAIL = TaskRef.of(PoolTasks.class, "fail");
    static final TaskRef HANG = TaskRef.of(PoolTasks.class, "signalAndHang");
    static final TaskRef BYTES = TaskRef.of(PoolTasks.class, "bytes");

    @TempDir
    Path dir;

    /** Every test closes its pool; then no child process of this JVM may remain. */
    @AfterEach
    void noChildProcessRemains() {
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList())
                .as("child processes left running").isEmpty();
    }

    private static List<Long> range(long n) {
        return LongStream.range(0, n).boxed().toList();
    }

    @Test
    void mapReturnsResultsInArgumentOrder() throws Exception {
        try (ProcessPool pool = ProcessPool.of(2)) {
            List<Object> squares = pool.map(SQUARE, range(200), 7);

            assertThat(squares).isEqualTo(LongStream.range(0, 200).map(x -> x * x).boxed().toList());
        }
    }

    @Test
    void imapKeepsOrderAndImapUnorderedDoesNotWhenTheFirstTaskFinishesLast(@TempDir Path d1, @TempDir Path d2)
            throws Exception {
        try (ProcessPool pool = ProcessPool.of(2)) {
            // "first" waits for a file this thread creates only after a result has come: it can only be "second".
            Path gate = d1.resolve("go");
            Iterator<Object> unordered = pool.imapUnordered(TaskRef.of(Steps.class, "step"),
                    List.of(List.of("await", gate.toString(), "first"), List.of("plain", "", "second")), 1);
            List<Object> unorderedResults = new ArrayList<>();
            unorderedResults.add(unordered.next());
            Files.writeString(gate, "open");
            unorderedResults.add(unordered.next());
            assertThat(unorderedResults).containsExactly("second", "first");
            assertThat(unordered.hasNext()).isFalse();

            String f2 = d2.resolve("go").toString();
            List<Object> orderedResults = new ArrayList<>();
            imapPair(pool, f2).forEachRemaining(orderedResults::add);
            assertThat(orderedResults).containsExactly("first", "second");
        }
    }

    /** Two calls: "first" waits for a file that "second" creates; one chunk each on two workers. */
    private static Iterator<Object> imapPair(ProcessPool pool, String file) {
        // imap takes one argument per item, so pass the pair through a task of one list argument
        TaskRef step = TaskRef.of(ProcessPoolTest.Steps.class, "step");
        List<List<Object>> items = List.of(List.of("await", file, "first"), List.of("touch", file, "second"));
        return pool.imap(step, items, 1);
    }

    /** Adapts the two-argument file tasks to imap's one argument per item. */
    static final class Steps {
        static Object step(List<?> spec) throws Exception {
            String file = (String) spec.get(1);
            return switch ((String) spec.get(0)) {
                case "await" -> PoolTasks.awaitFile(file, spec.get(2));
                case "touch" -> PoolTasks.touch(file, spec.get(2));
                default -> spec.get(2);
            };
        }
    }

    @Test
    void starmapSpreadsArgumentListsAndApplyTakesVarargs() throws Exception {
        try (ProcessPool pool = ProcessPool.of(2)) {
            assertThat(pool.starmap(ADD, List.of(List.of(1, 2), List.of(10L, 20L), List.of(-5, 5))))
                    .containsExactly(3L, 30L, 0L);
            assertThat(pool.apply(ADD, 40, 2)).isEqualTo(42L);
            assertThat(pool.applyAsync(SQUARE, 9).get()).isEqualTo(81L);
        }
    }

    @Test
    void aChunkRunsInOneWorkerAndMaxTasksPerChildReplacesWorkersAfterEachChunk() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(2).maxTasksPerChild(1).build()) {
            List<Object> results = pool.map(PID_OF, range(20), 5);

            List<Long> pidPerItem = results.stream().map(r -> (Long) ((List<?>) r).get(0)).toList();
            assertThat(results.stream().map(r -> ((List<?>) r).get(1)).toList()).isEqualTo(new ArrayList<>(range(20)));
            for (int chunk = 0; chunk < 4; chunk++) {
                assertThat(new HashSet<>(pidPerItem.subList(chunk * 5, chunk * 5 + 5)))
                        .as("one pid per chunk").hasSize(1);
            }
            assertThat(new HashSet<>(pidPerItem)).as("a new worker for every chunk").hasSize(4);
            assertThat(pool.workersStarted()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void withoutMaxTasksPerChildWorkersAreKept() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            Set<Object> pids = new HashSet<>(pool.map(PID, List.of(), 1));
            for (int i = 0; i < 5; i++) {
                pids.add(pool.apply(PID));
            }
            assertThat(pids).hasSize(1);
        }
    }

    @Test
    void theInitializerRunsOncePerWorker() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(2).maxTasksPerChild(3)
                .initializer(TaskRef.of(PoolTasks.class, "init")).build()) {
            List<Object> calls = pool.map(TaskRef.of(PoolTasks.class, "initCalls"), List.of(), 1);
            for (int i = 0; i < 12; i++) {
                assertThat(pool.apply(TaskRef.of(PoolTasks.class, "initCalls"))).isEqualTo(1L);
            }
            assertThat(calls).isEmpty();
            assertThat(pool.workersStarted()).isGreaterThanOrEqualTo(4); // 12 tasks, 3 per worker
        }
    }

    @Test
    void aFailingInitializerFailsTheTaskWithTheRemoteCause() {
        try (ProcessPool pool = ProcessPool.builder().workers(1)
                .initializer(TaskRef.of(PoolTasks.class, "badInit")).build()) {
            assertThatThrownBy(() -> pool.apply(PID)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(WorkerCrashedException.class).hasMessageContaining("initializer")
                    .cause().isInstanceOf(RemoteTaskException.class).hasMessageContaining("no database here");
        }
    }

    @Test
    void anExceptionInATaskComesBackWithItsRemoteStackTraceAndCause() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> pool.apply(FAIL, "boom"));

            RemoteTaskException remote = (RemoteTaskException) e.getCause();
            assertThat(remote.remoteClassName()).isEqualTo("java.lang.IllegalStateException");
            assertThat(remote.remoteMessage()).isEqualTo("task failed: boom");
            assertThat(remote.getStackTrace()).anySatisfy(frame -> {
                assertThat(frame.getClassName()).isEqualTo(PoolTasks.class.getName());
                assertThat(frame.getMethodName()).isEqualTo("fail");
                assertThat(frame.getLineNumber()).isPositive();
            });
            assertThat(remote.getCause()).isInstanceOf(RemoteTaskException.class)
                    .hasMessageContaining("java.lang.NumberFormatException");
            assertThat(pool.apply(SQUARE, 3)).as("the worker lives on").isEqualTo(9L);
        }
    }

    @Test
    void unknownTasksAndUnwireableResultsFailClearly() {
        try (ProcessPool pool = ProcessPool.of(1)) {
            assertThatThrownBy(() -> pool.apply(new TaskRef("no.such.Clazz", "run"))).cause()
                    .hasMessageContaining("java.lang.ClassNotFoundException").hasMessageContaining("no.such.Clazz");
            assertThatThrownBy(() -> pool.apply(SQUARE, 1, 2)).cause()
                    .hasMessageContaining("no static method square with 2 parameters");
            assertThatThrownBy(() -> pool.apply(TaskRef.of(PoolTasks.class, "notAWireType"))).cause()
                    .hasMessageContaining("java.lang.Object cannot cross the wire");
            assertThatThrownBy(() -> pool.apply(SQUARE, new Object()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot cross the wire");
        }
    }

    @Test
    void aWorkerKilledMidTaskFailsThatTaskNamingItsPidAndStatusAndIsReplaced() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            Path started = dir.resolve("started");
            CompletableFuture<Object> hanging = pool.applyAsync(HANG, started.toString());
            long pid = awaitPidIn(started);

            ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL while the task runs

            assertThatThrownBy(() -> hanging.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("worker pid " + pid + " exited with status 137, killed by signal 9 (SIGKILL)")
                    .hasMessageContaining("signalAndHang");
            WorkerCrashedException crash = (WorkerCrashedException) hanging.handle((r, e) -> e.getCause()).get();
            assertThat(crash.pid()).isEqualTo(pid);
            assertThat(crash.exitStatus()).isEqualTo(137);

            long replacement = (Long) pool.apply(PID);
            assertThat(replacement).as("the pool keeps serving, from a new worker").isNotEqualTo(pid);
        }
    }

    @Test
    void aWorkerThatExitsOnItsOwnFailsItsTaskToo() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            assertThatThrownBy(() -> pool.apply(TaskRef.of(PoolTasks.class, "halt"), 7)).cause()
                    .isInstanceOf(WorkerCrashedException.class).hasMessageContaining("exited with status 7 while");
            assertThat(pool.apply(SQUARE, 5)).isEqualTo(25L);
        }
    }

    private static long awaitPidIn(Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(file)) {
            assertThat(System.nanoTime()).as("the task signalled its start").isLessThan(deadline);
            Thread.sleep(5);
        }
        return Long.parseLong(Files.readString(file).strip());
    }

    @Test
    void aTimedOutCallFailsAndItsWorkerIsKilledAndReplaced() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            Path started = dir.resolve("started");
            long begin = System.nanoTime();
            CompletableFuture<Object> hanging = pool.applyAsync(HANG, List.of(started.toString()), Duration.ofSeconds(2));
            long pid = awaitPidIn(started);

            assertThatThrownBy(() -> hanging.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("did not finish within PT2S");
            assertThat(Duration.ofNanos(System.nanoTime() - begin)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());

            assertThatThrownBy(() -> pool.map(SLEEP, List.of(0, 60_000), 1, Duration.ofMillis(500)))
                    .isInstanceOf(TimeoutException.class);
            assertThat(pool.apply(SQUARE, List.of(4), Duration.ofSeconds(30))).isEqualTo(16L);
        }
    }

    @Test
    void cancellingAFutureKillsTheWorkerRunningIt() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            Path started = dir.resolve("started");
            CompletableFuture<Object> hanging = pool.applyAsync(HANG, started.toString());
            long pid = awaitPidIn(started);

            hanging.cancel(true);

            ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            assertThat(pool.apply(SQUARE, 6)).isEqualTo(36L);
        }
    }

    @Test
    void aLargeResultComesBackWhole() throws Exception {
        int size = 16 << 20;
        try (ProcessPool pool = ProcessPool.of(1)) {
            byte[] result = (byte[]) pool.apply(BYTES, size);

            assertThat(result).hasSize(size);
            assertThat(result).isEqualTo(PoolTasks.bytes(size));
        }
    }

    @Test
    void aResultBeyondThePayloadLimitIsRejectedAndTheWorkerReplaced() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(1).maxPayloadBytes(1 << 20).build()) {
            assertThatThrownBy(() -> pool.apply(BYTES, 2 << 20)).cause().isInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("malformed frame").hasMessageContaining("exceeds the limit of 1048576 bytes")
                    .cause().isInstanceOf(FrameFormatException.class);
            assertThat(pool.apply(SQUARE, 2)).isEqualTo(4L);
        }
    }

    @Test
    void manyThreadsMaySubmitAtOnce() throws Exception {
        try (ProcessPool pool = ProcessPool.of(2); ExecutorService submitters = Executors.newFixedThreadPool(8)) {
            List<Future<List<Object>>> calls = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                calls.add(submitters.submit(() -> pool.map(SQUARE, range(50), 4)));
            }
            for (int t = 0; t < 8; t++) {
                assertThat(calls.get(t).get()).isEqualTo(LongStream.range(0, 50).map(x -> x * x).boxed().toList());
            }
        }
    }

    @Test
    void shutdownDrainsAcceptedWorkThenRejectsNewWork() throws Exception {
        ProcessPool pool = ProcessPool.of(2);
        List<CompletableFuture<Object>> accepted = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            accepted.add(pool.applyAsync(SLEEP, 100));
        }
        assertThatThrownBy(pool::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("shutdown()");

        pool.shutdown();
        pool.shutdown(); // idempotent
        assertThatThrownBy(() -> pool.applyAsync(SQUARE, 1)).isInstanceOf(RejectedExecutionException.class)
                .hasMessageContaining("SHUTDOWN");
        pool.join();

        assertThat(pool.state()).isEqualTo(ProcessPool.State.TERMINATED);
        for (CompletableFuture<Object> f : accepted) {
            assertThat(f).isCompletedWithValue(100L);
        }
        pool.close(); // idempotent
    }

    @Test
    void terminateCancelsQueuedWorkAndKillsWorkers() throws Exception {
        ProcessPool pool = ProcessPool.of(1);
        Path started = dir.resolve("started");
        CompletableFuture<Object> running = pool.applyAsync(HANG, started.toString());
        CompletableFuture<Object> queued = pool.applyAsync(SQUARE, 3);
        long pid = awaitPidIn(started);

        pool.terminate();
        pool.terminate();
        pool.join();

        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThatThrownBy(running::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(CancellationException.class).hasMessageContaining("pool terminated");
        assertThatThrownBy(queued::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(CancellationException.class);
        assertThat(pool.workerPids()).isEmpty();
        pool.close();
    }

    @Test
    void emptyCallsReturnEmptyResults() throws Exception {
        try (ProcessPool pool = ProcessPool.of(1)) {
            assertThat(pool.map(SQUARE, List.of(), 3)).isEmpty();
            assertThat(pool.imapUnordered(SQUARE, List.of(), 3).hasNext()).isFalse();
        }
    }

    @Test
    void imapDeliversATaskFailureFromNext() {
        try (ProcessPool pool = ProcessPool.of(1)) {
            Iterator<Object> it = pool.imap(FAIL, List.of("a"), 1);
            assertThatThrownBy(it::next).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(RemoteTaskException.class);
        }
    }

    @Test
    void badArgumentsAreRejectedWithAClearMessage() {
        try (ProcessPool pool = ProcessPool.of(1)) {
            assertThatThrownBy(() -> pool.map(SQUARE, range(3), 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("chunksize must be ≥ 1: 0");
            assertThatThrownBy(() -> pool.apply(SQUARE, List.of(1), Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
            assertThatThrownBy(() -> ProcessPool.builder().workers(0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new TaskRef("", "x")).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
