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
import dev.conclab.toolkit.process.ParentWatch;
import dev.conclab.toolkit.process.pool.ProcessPool;
import dev.conclab.toolkit.process.pool.TaskRef;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Scenario: 100 MB of CPU-heavy work. What do you use? Measure each model on the same job and pick the fastest
 * that gives the same answer.
 *
 * <p>The job: {@code mb} MiB of data (1 MiB of xorshift32 noise, repeated; quick mode 8 MiB), cut in 1 MiB blocks;
 * for each block, {@code rounds} chained SHA-256 passes ({@code d = sha256(d ‖ block)}), a stand-in for heavy
 * per-byte work. The answer is the list of block digests; every model must give the same list.
 * <ol>
 *   <li><b>BASELINE — one thread</b> hashes every block.</li>
 *   <li><b>JVM threads</b>, one per core, blocks handed out by a fixed pool: the JVM has no GIL, threads share the
 *       data in one heap, nothing is copied. The expected answer on the JVM.</li>
 *   <li><b>Worker JVMs</b>, one per core: the data is written once to a file; each worker maps its range of blocks
 *       ({@link FileChannel#map}: the page cache is shared, not copied) and prints its digests. Each pays a JVM
 *       start-up and starts with a cold JIT; the wall time counts both, as a user would.</li>
 *   <li><b>The toolkit's {@link ProcessPool}</b>, started and warmed before timing (as a long-lived pool would be):
 *       a task per block names {@link #hashFileBlock} and passes the file name and the block number.</li>
 * </ol>
 * The CPython probe {@code cpu_heavy.py} runs the same hashing (with {@code hashlib}, which releases the GIL) on one
 * thread, on threads and on a fork-started {@code ProcessPoolExecutor} whose workers inherit the data and receive
 * only block numbers; and a pure-Python per-byte checksum over {@code py-mb} MiB (pure Python is about a thousand
 * times slower per byte) on one thread, on threads (the GIL: no gain), on the process pool, and vectorised with
 * numpy.
 *
 * <p>Run: {@code ./conclab run cpu-heavy-100mb} (100 MiB). Expect about 2× from threads on two cores on the JVM and
 * for hashlib, worker JVMs behind threads by their start-up, no gain from threads on pure Python, a gain from
 * processes, and numpy ahead of every pure-Python variant by an order of magnitude.
 */
public final class CpuHeavy100Mb implements Experiment {

    static final ClaimSpec SAME_ANSWER = new ClaimSpec("same-answer",
            "Every model computes the same block digests: one thread, JVM threads, worker JVMs, the toolkit's"
                    + " ProcessPool, and in CPython one thread, threads and a process pool.");
    static final ClaimSpec JVM_THREADS = new ClaimSpec("jvm-threads",
            "On the JVM, threads are the answer for CPU-heavy work: one thread per core hashes the data at least"
                    + " 1.5× faster than one thread (needs 2 cores).");
    static final ClaimSpec JVM_PROCESSES_SLOWER = new ClaimSpec("jvm-processes-slower",
            "Worker JVMs give no advantage over threads for this job: they take longer, because each pays a JVM"
                    + " start-up and a cold JIT.");
    static final ClaimSpec JVM_PROCESS_POOL = new ClaimSpec("jvm-process-pool",
            "A warm toolkit ProcessPool (workers started and JIT-warmed beforehand, each mapping the data file)"
                    + " hashes at least 1.3× faster than one thread (needs 2 cores): processes work on the JVM too,"
                    + " they just buy nothing that threads do not.");
    static final ClaimSpec PY_PURE_THREADS = new ClaimSpec("py-pure-threads",
            "In CPython, threads running pure-Python per-byte work gain at most 1.2× (the GIL), even with 2 cores"
                    + " free.");
    static final ClaimSpec PY_HASHLIB_THREADS = new ClaimSpec("py-hashlib-threads",
            "Threads do pay off in CPython when the heavy part runs in C that releases the GIL: hashlib on threads"
                    + " is at least 1.5× faster than one thread (needs 2 cores).");
    static final ClaimSpec PY_PROCESSES = new ClaimSpec("py-processes",
            "For pure-Python per-byte work, a process pool is at least 1.3× faster than one process (needs 2"
                    + " cores).");
    static final ClaimSpec PY_NUMPY = new ClaimSpec("py-numpy",
            "Vectorising the pure-Python checksum with numpy makes it at least 5× faster than pure Python on one"
                    + " thread, on one core.");

    static final int BLOCK = 1 << 20;

    @Override
    public String id() {
        return "cpu-heavy-100mb";
    }

    @Override
    public String title() {
        return "100 MB of CPU-heavy work: one thread, threads, worker processes, numpy";
    }

    @Override
    public String description() {
        return "Hashes 100 MiB in 1 MiB blocks (chained SHA-256 rounds) on one thread, JVM threads and worker JVMs,"
                + " and in CPython with hashlib on one thread, threads and a process pool, plus a pure-Python"
                + " checksum on one thread, threads, processes and numpy; picks the model by measurement.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("mb", "MiB of data", 2, 1_024, 100, 8),
                new Param.IntParam("rounds", "SHA-256 passes over each block", 1, 64, 8, 8),
                new Param.IntParam("py-mb", "MiB the pure-Python checksum covers", 1, 1_024, 4, 1));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SAME_ANSWER, JVM_THREADS, JVM_PROCESSES_SLOWER, JVM_PROCESS_POOL, PY_PURE_THREADS, PY_HASHLIB_THREADS,
                PY_PROCESSES, PY_NUMPY);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int mb = ctx.intParam("mb");
        int rounds = ctx.intParam("rounds");
        int workers = Math.max(2, ctx.cores());
        byte[] data = data(mb);
        Table.Builder table = Table.builder(mb + " MiB in 1 MiB blocks, " + rounds + " SHA-256 passes per block (best"
                        + " of " + ctx.repeats() + " on the JVM, of " + PythonProbes.repeats(ctx) + " in CPython)", "runtime", "model", "work", "ms", "MiB/s", "× one thread",
                "same answer");

        ctx.progress(0.05, "JVM: one thread");
        String[][] one = new String[1][];
        hashBlocks(data, 0, mb, rounds); // warm the JIT before timing
        Timing single = Measure.bestOf(ctx.repeats(), ctx, () -> one[0] = hashBlocks(data, 0, mb, rounds));
        String[] expected = one[0];

        ctx.progress(0.2, "JVM: " + workers + " threads");
        String[][] threaded = new String[1][];
        Timing threads;
        try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
            threads = Measure.bestOf(ctx.repeats(), ctx, () -> {
                List<Future<String[]>> parts = new ArrayList<>();
                for (int b = 0; b < mb; b++) {
                    int block = b;
                    parts.add(pool.submit(() -> hashBlocks(data, block, 1, rounds)));
                }
                String[] all = new String[mb];
                for (int b = 0; b < mb; b++) {
                    all[b] = parts.get(b).get()[0];
                }
                threaded[0] = all;
            });
        }

        ctx.progress(0.35, "JVM: " + workers + " worker JVMs");
        Path file = Files.createTempFile("conclab-cpu-heavy-", ".bin");
        String[][] fromChildren = new String[1][];
        String[][] fromPool = new String[1][];
        Timing children;
        Timing pooled;
        try {
            Files.write(file, data);
            // Two JVM start-ups per run: fewer samples, the gap to threads is far wider than the noise.
            children = Measure.bestOf(Math.min(2, ctx.repeats()), ctx, () -> fromChildren[0] = inWorkerJvms(ctx, file,
                    mb, rounds, workers));
            ctx.progress(0.45, "JVM: toolkit ProcessPool of " + workers);
            List<List<?>> calls = new ArrayList<>();
            for (int b = 0; b < mb; b++) {
                calls.add(List.of(file.toString(), b, rounds));
            }
            TaskRef task = TaskRef.of(CpuHeavy100Mb.class, "hashFileBlock");
            try (ProcessPool pool = ProcessPool.builder().workers(workers).build()) {
                for (int warm = 0; warm < 3; warm++) {
                    pool.starmap(task, calls); // start the workers and let their JIT compile the hashing
                }
                pooled = Measure.bestOf(ctx.repeats(), ctx, () -> fromPool[0] = pool.starmap(task, calls).stream()
                        .map(String.class::cast).toArray(String[]::new));
            }
        } finally {
            Files.deleteIfExists(file);
        }
        boolean threadsSame = Arrays.equals(expected, threaded[0]);
        boolean childrenSame = Arrays.equals(expected, fromChildren[0]);
        boolean poolSame = Arrays.equals(expected, fromPool[0]);
        double mib = mb;
        table.row("JVM", "one thread", "SHA-256", single.bestMillis(), mib / single.best(), 1.0, "baseline")
                .row("JVM", workers + " threads", "SHA-256", threads.bestMillis(), mib / threads.best(),
                        Measure.speedup(single, threads), threadsSame ? "yes" : "NO")
                .row("JVM", workers + " worker JVMs (start-up included)", "SHA-256", children.bestMillis(),
                        mib / children.best(), Measure.speedup(single, children), childrenSame ? "yes" : "NO")
                .row("JVM", "toolkit ProcessPool(" + workers + "), warm", "SHA-256", pooled.bestMillis(),
                        mib / pooled.best(), Measure.speedup(single, pooled), poolSame ? "yes" : "NO");
        if (ctx.requireCores(JVM_THREADS, 2)) {
            ctx.claim(JVM_THREADS, Verdict.atLeast(workers + " JVM threads vs 1", Measure.speedup(single, threads),
                    1.5));
        }
        ctx.claim(JVM_PROCESSES_SLOWER, Verdict.atLeast(workers + " worker JVMs' time over " + workers + " threads'"
                + String.format(" (%.0f ms vs %.0f ms)", children.bestMillis(), threads.bestMillis()),
                children.best() / threads.best(), 1.0));

        if (ctx.requireCores(JVM_PROCESS_POOL, 2)) {
            ctx.claim(JVM_PROCESS_POOL, Verdict.atLeast("warm ProcessPool of " + workers + " vs 1 thread",
                    Measure.speedup(single, pooled), 1.3));
        }

        ctx.progress(0.55, "CPython: hashlib, pure Python, processes, numpy");
        boolean pySame = true;
        String pyNote = "no CPython";
        ProbeOutcome outcome = PythonProbes.of(ctx).run("cpu_heavy.py", List.of(), Duration.ofSeconds(120),
                "--mb", Integer.toString(mb), "--rounds", Integer.toString(rounds),
                "--py-mb", Integer.toString(ctx.intParam("py-mb")), "--workers", Integer.toString(workers),
                // Pure-Python timings swing with the neighbours' load: the best of more, shorter runs.
                "--repeat", Integer.toString(PythonProbes.repeats(ctx)));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_PURE_THREADS, PY_HASHLIB_THREADS, PY_PROCESSES, PY_NUMPY);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                JsonNode sha = json.path("hashlib");
                JsonNode pure = json.path("checksum");
                double pyMb = json.path("py_mb").asDouble();
                String pyFirst = json.path("first_digest").asText();
                boolean crossSame = pyFirst.equals(expected[0]);
                pySame = sha.path("same_results").asBoolean() && pure.path("same_results").asBoolean() && crossSame;
                pyNote = String.format("CPython: hashlib variants agree: %s, checksum variants agree: %s, first block"
                        + " digest equals the JVM's: %s", sha.path("same_results").asBoolean(),
                        pure.path("same_results").asBoolean(), crossSame);
                double shaOne = sha.path("one_thread_s").asDouble();
                double shaThreads = sha.path("threads_s").asDouble();
                double shaProcs = sha.path("processes_s").asDouble();
                table.row("CPython", "one thread", "hashlib.sha256", shaOne * 1e3, mib / shaOne, 1.0, "baseline")
                        .row("CPython", workers + " threads", "hashlib.sha256", shaThreads * 1e3, mib / shaThreads,
                                shaOne / shaThreads, yes(sha.path("same_results")))
                        .row("CPython", "ProcessPoolExecutor(" + workers + "), fork", "hashlib.sha256",
                                shaProcs * 1e3, mib / shaProcs, shaOne / shaProcs, yes(sha.path("same_results")));
                double pOne = pure.path("one_thread_s").asDouble();
                double pThreads = pure.path("threads_s").asDouble();
                double pProcs = pure.path("processes_s").asDouble();
                String work = "pure-Python checksum, " + (int) pyMb + " MiB";
                table.row("CPython", "one thread", work, pOne * 1e3, pyMb / pOne, 1.0, "baseline")
                        .row("CPython", workers + " threads", work, pThreads * 1e3, pyMb / pThreads, pOne / pThreads,
                                yes(pure.path("same_results")))
                        .row("CPython", "ProcessPoolExecutor(" + workers + "), fork", work, pProcs * 1e3,
                                pyMb / pProcs, pOne / pProcs, yes(pure.path("same_results")));
                // Gated like a speed-up claim: on one core there is nothing to gain anyway, and on cores busy with
                // other processes the one-thread runs are the ones that get preempted, which flatters the threads.
                if (ctx.requireCores(PY_PURE_THREADS, 2)) {
                    ctx.claim(PY_PURE_THREADS, Verdict.atMost(workers + " CPython threads vs 1, pure Python",
                            pOne / pThreads, 1.2));
                }
                if (ctx.requireCores(PY_HASHLIB_THREADS, 2)) {
                    ctx.claim(PY_HASHLIB_THREADS, Verdict.atLeast(workers + " CPython threads vs 1, hashlib",
                            shaOne / shaThreads, 1.5));
                }
                if (ctx.requireCores(PY_PROCESSES, 2)) {
                    ctx.claim(PY_PROCESSES, Verdict.atLeast(workers + " processes vs 1 thread, pure Python",
                            pOne / pProcs, 1.3));
                }
                JsonNode np = pure.path("numpy_s");
                if (np.isNull() || np.isMissingNode()) {
                    ctx.claim(PY_NUMPY, Verdict.skipped("numpy is not installed for " + ran.interpreter()));
                } else {
                    double npS = np.asDouble();
                    table.row("CPython", "numpy, vectorised, one thread", work, npS * 1e3, pyMb / npS, pOne / npS,
                            yes(pure.path("same_results")));
                    ctx.claim(PY_NUMPY, Verdict.atLeast("numpy vs pure Python, one thread", pOne / npS, 5.0));
                }
            }
        }
        ctx.claim(SAME_ANSWER, Verdict.check(threadsSame && childrenSame && poolSame && pySame, String.format(
                "%d block digests: JVM threads equal one thread's: %s; worker JVMs': %s; ProcessPool's: %s; %s", mb,
                threadsSame, childrenSame, poolSame, pyNote)));
        ctx.table(table.build());
        ctx.note("Per MiB, pure Python is far slower than hashlib; its rows cover " + ctx.intParam("py-mb")
                + " MiB only, so compare their MiB/s, not their ms.");
        ctx.progress(1, "done");
    }

    private static String yes(JsonNode flag) {
        return flag.asBoolean() ? "yes" : "NO";
    }

    /** {@code mb} MiB: 1 MiB of xorshift32 words (little-endian), repeated; the probe builds the same bytes. */
    static byte[] data(int mb) {
        ByteBuffer block = ByteBuffer.allocate(BLOCK).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int x = 0x9E3779B9;
        while (block.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            block.putInt(x);
        }
        byte[] data = new byte[mb * BLOCK];
        for (int b = 0; b < mb; b++) {
            System.arraycopy(block.array(), 0, data, b * BLOCK, BLOCK);
        }
        return data;
    }

    /** The digests of blocks {@code first .. first+count-1}: {@code rounds} chained passes of SHA-256 each. */
    static String[] hashBlocks(byte[] data, int first, int count, int rounds) {
        return hashBlocks(ByteBuffer.wrap(data), first, count, rounds);
    }

    static String[] hashBlocks(ByteBuffer data, int first, int count, int rounds) {
        MessageDigest sha = sha256();
        String[] out = new String[count];
        for (int b = 0; b < count; b++) {
            byte[] digest = new byte[0];
            for (int r = 0; r < rounds; r++) {
                sha.update(digest);
                sha.update(data.slice((first + b) * BLOCK, BLOCK));
                digest = sha.digest();
            }
            out[b] = HexFormat.of().formatHex(digest);
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * The ProcessPool's task: the digest of block {@code block} of the data file, mapped read-only (the page cache
     * is shared between processes; only the file name and two numbers cross the wire).
     */
    static String hashFileBlock(String path, long block, long rounds) throws IOException {
        try (FileChannel ch = FileChannel.open(Path.of(path), StandardOpenOption.READ)) {
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, block * BLOCK, BLOCK);
            return hashBlocks(mapped, 0, 1, (int) rounds)[0];
        }
    }

    /** Splits the blocks over {@code workers} worker JVMs and gathers their digests in block order. */
    private static String[] inWorkerJvms(RunContext ctx, Path file, int mb, int rounds, int workers)
            throws IOException, InterruptedException {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx64m");
        List<Process> started = new ArrayList<>();
        int base = mb / workers;
        int extra = mb % workers;
        int first = 0;
        for (int w = 0; w < workers; w++) {
            int count = base + (w < extra ? 1 : 0);
            started.add(ctx.children().track(launcher.start(HashWorker.class, file.toString(),
                    Integer.toString(first), Integer.toString(count), Integer.toString(rounds))));
            first += count;
        }
        List<String> digests = new ArrayList<>(mb);
        for (Process p : started) {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                for (String line; (line = out.readLine()) != null; ) {
                    digests.add(line.strip());
                }
            }
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("worker JVM " + p.pid() + " failed");
            }
        }
        return digests.toArray(String[]::new);
    }

    /**
     * A worker JVM: {@code main(file, firstBlock, blocks, rounds)} maps its blocks of the file read-only and prints
     * one digest per line, in block order. Exits with its parent.
     */
    public static final class HashWorker {
        private HashWorker() {
        }

        public static void main(String[] args) throws IOException {
            ParentWatch.exitWithParent();
            int first = Integer.parseInt(args[1]);
            int count = Integer.parseInt(args[2]);
            int rounds = Integer.parseInt(args[3]);
            try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
                ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, (long) first * BLOCK, (long) count * BLOCK);
                StringBuilder out = new StringBuilder();
                for (String d : hashBlocks(mapped, 0, count, rounds)) {
                    out.append(d).append('\n');
                }
                System.out.print(out);
                System.out.flush();
            }
        }
    }
}
