package dev.conclab.lab.experiments.multiprocessing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Measure.Timing;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Sharing memory between processes: one large read-only input, needed by every worker JVM. Two JVMs share no heap,
 * so the input either travels to each worker or lives in memory that the OS maps into all of them.
 *
 * <ul>
 *   <li><b>BASELINE — send a copy:</b> the parent writes the whole input down each worker's stdin pipe; each worker
 *       allocates a heap array, reads the bytes into it and checksums them. {@code workers} × size bytes cross the
 *       kernel, and each worker holds its own private copy.</li>
 *   <li><b>Map one file:</b> the parent writes the input once into a file in {@code /dev/shm} (tmpfs: the file
 *       <em>is</em> memory) and tells each worker its path; each worker maps it READ_ONLY as an FFM
 *       {@link MemorySegment} ({@code FileChannel.map(mode, offset, size, arena)}, Java 22) and checksums it in
 *       place. Every worker's page table points at the same physical pages: nothing is copied per worker.</li>
 * </ul>
 * Both are timed from the moment the parent holds the input in its heap to the moment the last worker has
 * answered (the mapped variant's time includes writing the file). Workers are started before timing and reused,
 * and the two variants take turns, round by round.
 * Each worker reports, while it still holds the input, {@code RssAnon} (its private, anonymous memory — the heap)
 * and {@code RssShmem} (shared-memory pages it has mapped) from {@code /proc/self/status}; the growth since the
 * worker started is what holding the input cost it. Every checksum is compared with the parent's.
 *
 * <p>The CPython probe {@code shared_memory.py}: a {@code Pool} of workers summing a numpy array passed as an
 * argument (pickled into every task and unpickled in the worker) vs attaching to a
 * {@code multiprocessing.shared_memory.SharedMemory} block (3.8) and summing a numpy view on it; and a shared
 * counter, {@code multiprocessing.Value('i')}: <b>Broken</b> — {@code v.value += 1} is a locked read and then a
 * separately locked write, and two processes forced by a {@code multiprocessing.Barrier} to read before either
 * writes lose one update every round; under {@code with v.get_lock():} none is lost.
 *
 * <p>Run: {@code ./conclab run shared-memory -p mib=256}. Expect the mapping to win by a factor that grows with
 * the number of workers, the copy to grow each worker's private memory by the input's size and the mapping by
 * almost nothing, and the forced lost update to lose exactly one update per round.
 */
public final class SharedMemory implements Experiment {

    static final ClaimSpec MAP_FASTER = new ClaimSpec("map-faster",
            "Mapping one /dev/shm file into every worker JVM gets a large input to all of them at least 1.5× faster"
                    + " than sending each worker its own copy through a pipe.");
    static final ClaimSpec MAP_PRIVATE_SMALL = new ClaimSpec("map-private-small",
            "A worker that maps the input grows its private memory by less than a quarter of the input's size; a"
                    + " worker sent a copy grows it by at least 90% of the size.");
    static final ClaimSpec PY_SHM_FASTER = new ClaimSpec("py-shm-faster",
            "In CPython, pool workers reading a numpy array through multiprocessing.shared_memory finish at least"
                    + " 2× faster than workers handed the same array as a pickled argument.");
    static final ClaimSpec PY_VALUE_LOST_UPDATE = new ClaimSpec("py-value-lost-update",
            "Broken: v.value += 1 on a multiprocessing.Value is a locked read and then a locked write; when two"
                    + " processes both read before either writes, an update is lost every round.");
    static final ClaimSpec PY_VALUE_GET_LOCK = new ClaimSpec("py-value-get-lock",
            "The same increment inside with v.get_lock(): loses no update.");

    /** The input size of the warm-up, after which each worker's memory baseline is taken. */
    private static final int WARM_UP_BYTES = 1 << 20;
    /**
     * Rounds beyond the run's usual best-of: each round is a few tens of milliseconds, and on a shared machine
     * the best of three rounds of page-faulting workers still catches a slow spell now and then.
     */
    private static final int EXTRA_REPEATS = 4;

    @Override
    public String id() {
        return "shared-memory";
    }

    @Override
    public String title() {
        return "Sharing a large read-only input with worker processes: send a copy vs map one /dev/shm file";
    }

    @Override
    public String description() {
        return "Gets a large input to worker JVMs by sending each a copy over a pipe vs mapping one /dev/shm file"
                + " into all (FFM MemorySegment), timing both and reading each worker's RssAnon and RssShmem; in"
                + " CPython a pickled numpy array vs a SharedMemory view, and a multiprocessing.Value lost update"
                + " forced with a Barrier beside get_lock().";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("mib", "size of the input, in MiB", 1, 1_024, 128, 32),
                new Param.IntParam("workers", "worker JVMs (and CPython pool workers)", 1, 16, 2, 2),
                new Param.IntParam("py-mib", "size of the CPython array, in MiB", 1, 1_024, 64, 32),
                new Param.IntParam("py-rounds", "forced rounds of the CPython shared counter", 1, 100_000, 1_000,
                        200));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(MAP_FASTER, MAP_PRIVATE_SMALL, PY_SHM_FASTER, PY_VALUE_LOST_UPDATE, PY_VALUE_GET_LOCK);
    }

    /** What one worker answered. */
    private record Answer(long checksum, long anonKib, long shmemKib) {
    }

    /** One worker JVM and its pipes. */
    private record Worker(Process process, DataOutputStream in, DataInputStream out, Answer baseline) {
        Answer answer() throws IOException {
            return new Answer(out.readLong(), out.readLong(), out.readLong());
        }
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int size = ctx.intParam("mib") << 20;
        int count = ctx.intParam("workers");
        byte[] input = new byte[size];
        MemorySegment inputSegment = MemorySegment.ofArray(input);
        for (long i = 0; i < size / Long.BYTES; i++) {
            inputSegment.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L);
        }
        long expected = SharedInputWorker.checksum(inputSegment);

        ctx.progress(0.05, "starting " + count + " worker JVMs");
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm()
                .withOptions("-XX:+UseSerialGC", "-Xmx" + (2 * (size >> 20) + 64) + "m");
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Process p = ctx.children().track(launcher.start(SharedInputWorker.class));
            workers.add(new Worker(p, new DataOutputStream(p.getOutputStream()),
                    new DataInputStream(p.getInputStream()), null));
        }
        for (Worker w : workers) {
            w.answer(); // started
        }

        Path shmDir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(
                System.getProperty("java.io.tmpdir"));
        Path file = shmDir.resolve("conclab-shared-input-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        List<Answer> baselines = new ArrayList<>();
        List<Answer> mapped = new ArrayList<>();
        List<Answer> copied = new ArrayList<>();
        Timing map;
        Timing send;
        try (ExecutorService feeders = Executors.newVirtualThreadPerTaskExecutor()) {
            // Warm-up: both paths once with a small input, so the JIT's own memory is spent before the baseline.
            int small = Math.min(size, WARM_UP_BYTES);
            Files.write(file, Arrays.copyOf(input, small));
            everyWorker(feeders, workers, w -> map(w, file, small)).forEach(SharedMemory::join);
            List<Worker> ready = new ArrayList<>();
            for (Worker w : workers) {
                ready.add(new Worker(w.process(), w.in(), w.out(), copy(w, input, small)));
            }
            // The file is the shared block: created once, its contents written again on every repeat (as a
            // program would refill the block for each new input), so the repeats do not time tmpfs allocating pages.
            Files.write(file, new byte[0]);
            // The variants take turns (map, copy, map, copy, ...) so that a slow spell of a shared machine lands on
            // both; the first map comes before any copy, so its memory is not mixed up with a copy's heap.
            List<Double> mapSeconds = new ArrayList<>();
            List<Double> sendSeconds = new ArrayList<>();
            int repeats = ctx.repeats() + EXTRA_REPEATS;
            for (int r = 0; r < repeats; r++) {
                ctx.checkCancelled();
                ctx.progress(0.1 + 0.5 * r / repeats, "map one file into every worker, then send each a copy");
                long start = System.nanoTime();
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ByteBuffer all = ByteBuffer.wrap(input);
                    while (all.hasRemaining()) {
                        channel.write(all, all.position());
                    }
                }
                collect(mapped, everyWorker(feeders, ready, w -> map(w, file, size)));
                mapSeconds.add((System.nanoTime() - start) / 1e9);
                start = System.nanoTime();
                collect(copied, everyWorker(feeders, ready, w -> copy(w, input, size)));
                sendSeconds.add((System.nanoTime() - start) / 1e9);
            }
            map = new Timing(mapSeconds);
            send = new Timing(sendSeconds);
            for (int i = 0; i < count; i++) {
                baselines.add(ready.get(i).baseline());
            }
            for (Worker w : ready) {
                w.in().writeByte('q');
                w.in().flush();
            }
        } finally {
            Files.deleteIfExists(file);
        }
        for (Worker w : workers) {
            w.process().waitFor();
        }
        for (Answer a : mapped) {
            check(a, expected);
        }
        for (Answer a : copied) {
            check(a, expected);
        }

        double sizeKib = size / 1024.0;
        double mapAnonGrowth = 0;
        double copyAnonGrowth = Double.MAX_VALUE;
        double mapShmem = Double.MAX_VALUE;
        // The first answer of each worker in each variant: the map before any copy, the first copy.
        for (int i = 0; i < count; i++) {
            Answer base = baselines.get(i);
            Answer m = mapped.get(i);
            Answer c = copied.get(i);
            mapAnonGrowth = Math.max(mapAnonGrowth, m.anonKib() - base.anonKib());
            copyAnonGrowth = Math.min(copyAnonGrowth, c.anonKib() - base.anonKib());
            mapShmem = Math.min(mapShmem, m.shmemKib());
        }
        Table table = Table.builder(String.format("A %d MiB read-only input for %d worker JVMs (best of %d)",
                                size >> 20, count, map.seconds().size()), "variant", "runtime", "ms", "× faster than copy",
                        "MiB copied", "worker private growth MiB", "worker shared-memory MiB")
                .row("send each worker a copy (baseline)", "JVM", send.bestMillis(), 1.0,
                        (double) count * size / (1 << 20), copyAnonGrowth / 1024, 0.0)
                .row("map one /dev/shm file (FFM, READ_ONLY)", "JVM", map.bestMillis(), Measure.speedup(send, map),
                        (double) size / (1 << 20), mapAnonGrowth / 1024, mapShmem / 1024)
                .build();
        ctx.claim(MAP_FASTER, Verdict.atLeast("copy time ÷ map time", Measure.speedup(send, map), 1.5));
        ctx.claim(MAP_PRIVATE_SMALL, Verdict.check(mapAnonGrowth < 0.25 * sizeKib && copyAnonGrowth >= 0.9 * sizeKib,
                String.format("RssAnon growth of the %d MiB input: mapped at most %.1f MiB (needs < %.1f),"
                                + " copied at least %.1f MiB (needs ≥ %.1f); mapped RssShmem %.1f MiB",
                        size >> 20, mapAnonGrowth / 1024, 0.25 * sizeKib / 1024, copyAnonGrowth / 1024,
                        0.9 * sizeKib / 1024, mapShmem / 1024)));

        ctx.progress(0.7, "CPython: SharedMemory vs pickled arrays; Value with and without its lock");
        Table.Builder py = Table.builder("CPython", "variant", "value", "unit");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("shared_memory.py", List.of("numpy"),
                Duration.ofSeconds(120), "--mib", Integer.toString(ctx.intParam("py-mib")),
                "--workers", Integer.toString(count), "--rounds", Integer.toString(ctx.intParam("py-rounds")),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_SHM_FASTER, PY_VALUE_LOST_UPDATE, PY_VALUE_GET_LOCK);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double pickled = json.path("pickled_s").asDouble();
                double shared = json.path("shared_s").asDouble();
                int rounds = json.path("rounds").asInt();
                int expectedCount = json.path("expected").asInt();
                int broken = json.path("value_broken").asInt();
                int locked = json.path("value_locked").asInt();
                py.row("Pool.map: array passed as a pickled argument (baseline)", pickled * 1e3, "ms")
                        .row("Pool.map: SharedMemory + numpy view", shared * 1e3, "ms")
                        .row("Broken: v.value += 1, forced with a Barrier", broken, "final count of "
                                + expectedCount)
                        .row("with v.get_lock(): v.value += 1", locked, "final count of " + expectedCount);
                ctx.claim(PY_SHM_FASTER, Verdict.atLeast("pickled time ÷ SharedMemory time", pickled / shared, 2));
                ctx.claim(PY_VALUE_LOST_UPDATE, Verdict.check(broken <= expectedCount - rounds, String.format(
                        "2 processes × %d rounds: final count %d of %d (needs ≤ %d: one lost per round)", rounds,
                        broken, expectedCount, expectedCount - rounds)));
                ctx.claim(PY_VALUE_GET_LOCK, Verdict.check(locked == expectedCount, String.format(
                        "2 processes × %d rounds under get_lock(): final count %d of %d", rounds, locked,
                        expectedCount)));
            }
        }
        ctx.table(table);
        ctx.table(py.build());
        ctx.progress(1, "done");
    }

    private static Answer map(Worker w, Path file, long size) throws IOException {
        w.in().writeByte('m');
        w.in().writeUTF(file.toString());
        w.in().writeLong(size);
        w.in().flush();
        return w.answer();
    }

    private static Answer copy(Worker w, byte[] input, int size) throws IOException {
        w.in().writeByte('c');
        w.in().writeLong(size);
        w.in().write(input, 0, size);
        w.in().flush();
        return w.answer();
    }

    private static Answer join(Future<Answer> answer) {
        try {
            return answer.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a worker failed: " + e.getCause(), e.getCause());
        }
    }

    @FunctionalInterface
    private interface Exchange {
        Answer with(Worker worker) throws IOException;
    }

    /** Runs {@code exchange} with every worker at once, one feeder thread each, and returns their answers. */
    private static List<Future<Answer>> everyWorker(ExecutorService feeders, List<Worker> workers, Exchange exchange) {
        List<Future<Answer>> answers = new ArrayList<>();
        for (Worker w : workers) {
            answers.add(feeders.submit(() -> exchange.with(w)));
        }
        return answers;
    }

    private static void collect(List<Answer> into, List<Future<Answer>> answers) throws Exception {
        for (Future<Answer> a : answers) {
            into.add(a.get());
        }
    }

    private static void check(Answer answer, long expected) throws IOException {
        if (answer.checksum() != expected) {
            throw new IOException("a worker read a checksum of " + answer.checksum() + ", expected " + expected);
        }
    }
}
