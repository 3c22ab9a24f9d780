package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.experiments.support.DelayedServer;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Parallel I/O: many I/O operations in flight at once instead of one after another. Two kinds of I/O, because they
 * behave differently:
 *
 * <ol>
 *   <li><b>HTTP requests that wait</b> (a loopback {@link DelayedServer} answering after D ms). BASELINE: N requests
 *       one after another, ≈ N × D. Then overlapped: a pool of P platform threads (⌈N/P⌉ waves of D), a virtual
 *       thread per request, and {@code HttpClient.sendAsync} with {@code allOf} (both ≈ D: the waits overlap, the
 *       CPU is idle).</li>
 *   <li><b>The server's limit.</b> The same N requests against a server that works on at most K at once
 *       ({@code DelayedServer.start(D, K)}), from virtual threads behind a {@link Semaphore}(c) for c below, at and
 *       above K. Up to K, more client concurrency helps; beyond K it stops helping: the time stays at ⌈N/K⌉ × D and
 *       the server's {@code peakInService()} stays at K. Parallel I/O is bounded by the slowest shared resource, not
 *       by how many requests the client starts.</li>
 *   <li><b>Reading small files</b> that sit in the page cache (written to a temporary directory and read once
 *       before timing). BASELINE: one thread. Then a fixed pool of one thread per core, a virtual thread per file,
 *       and {@link AsynchronousFileChannel} (on Linux backed by the thread pool it is given). A page-cache read
 *       copies memory inside a system call: it is CPU work, not waiting, so the speed-up is bounded by the cores,
 *       never by the concurrency. With a cold cache on a real disk that waits, the picture would move towards the
 *       HTTP one; this experiment does not pretend to measure a disk.</li>
 * </ol>
 * CPython ({@code parallel_io.py}) does the same against the same server and files: one after another, a
 * {@code ThreadPoolExecutor} (blocking socket calls release the GIL) and asyncio streams for HTTP; one thread,
 * a {@code ThreadPoolExecutor} and {@code asyncio.to_thread} (asyncio has no asynchronous file API) for files.
 *
 * <p>Run: {@code ./conclab run parallel-io --quick}. Expect overlapped HTTP within a few ms of D (sequential
 * ≈ N × D), the pool in its waves, the plateau at K, and file reads gaining at most about the core count.
 */
public final class ParallelIo implements Experiment {

    static final ClaimSpec HTTP_OVERLAP = new ClaimSpec("http-overlap",
            "N HTTP requests of D ms take at least N × D one after another, but overlapped on virtual threads or"
                    + " with sendAsync they finish within 2 × D plus 100 ms.");
    static final ClaimSpec POOL_WAVES = new ClaimSpec("pool-waves",
            "A pool of P platform threads runs N waiting requests in ⌈N/P⌉ waves: between ⌈N/P⌉ × D and 1.5 ×"
                    + " ⌈N/P⌉ × D plus 100 ms.");
    static final ClaimSpec SERVER_PLATEAU = new ClaimSpec("server-plateau",
            "When the server serves at most K requests at once, client concurrency beyond K stops helping: every run"
                    + " with c ≥ K takes at least ⌈N/K⌉ × D and at most 1.5 × ⌈N/K⌉ × D plus 100 ms, the server's"
                    + " peak in service is exactly K, and c = K/2 is at least 1.5× slower than c = K.");
    static final ClaimSpec FILES_CPU = new ClaimSpec("files-cpu",
            "Reading small files from the page cache is CPU work, not waiting: no variant (a pool of one thread per"
                    + " core, a virtual thread per file, AsynchronousFileChannel) reads them more than cores + 1"
                    + " times faster than one thread, while overlapping the HTTP waits is at least 4× faster than"
                    + " one after another.");
    static final ClaimSpec PY_HTTP = new ClaimSpec("py-http-overlap",
            "In CPython, a ThreadPoolExecutor of N workers (blocking socket calls release the GIL) and asyncio"
                    + " streams each finish N requests of D ms within 2 × D plus 150 ms, against at least N × D one"
                    + " after another.");
    static final ClaimSpec PY_FILES = new ClaimSpec("py-files",
            "asyncio has no asynchronous file API: asyncio.to_thread runs each read in the loop's default"
                    + " ThreadPoolExecutor, whose default max_workers is min(32, os.cpu_count() + 4), and on"
                    + " page-cached files neither it nor a ThreadPoolExecutor reads more than cores + 1 times faster"
                    + " than one thread.");

    private static final double SLACK_MS = 100;
    private static final double PY_SLACK_MS = 150;
    private static final long GIVE_UP_MILLIS = 60_000;

    @Override
    public String id() {
        return "parallel-io";
    }

    @Override
    public String title() {
        return "Parallel I/O: HTTP requests and file reads overlapped vs one after another — pools, virtual threads,"
                + " async, the server's limit, and why page-cached reads are CPU-bound";
    }

    @Override
    public String description() {
        return "Sends N HTTP requests of D ms to a loopback server one after another, on a pool of P platform"
                + " threads, on a virtual thread each and with sendAsync; repeats against a server limited to K at"
                + " once with client concurrency below, at and above K; reads F small page-cached files on one"
                + " thread, a pool, virtual threads and AsynchronousFileChannel; CPython does the same with"
                + " ThreadPoolExecutor and asyncio.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("requests", "HTTP requests per batch (N)", 4, 2_000, 100, 16),
                new Param.IntParam("delay-ms", "how long the server waits before each answer (D)", 5, 1_000, 50, 25),
                new Param.IntParam("pool", "platform threads of the pool (P)", 1, 1_000, 10, 4),
                new Param.IntParam("server-limit", "requests the limited server serves at once (K)", 2, 500, 8, 4),
                new Param.IntParam("files", "small files to read (F)", 10, 200_000, 20_000, 2_000),
                new Param.IntParam("file-kb", "size of each file in KiB", 1, 1_024, 4, 4));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(HTTP_OVERLAP, POOL_WAVES, SERVER_PLATEAU, FILES_CPU, PY_HTTP, PY_FILES);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(20);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("requests");
        int d = ctx.intParam("delay-ms");
        int p = ctx.intParam("pool");
        int k = ctx.intParam("server-limit");
        int files = ctx.intParam("files");
        int fileKb = ctx.intParam("file-kb");
        int repeats = ctx.repeats();
        Table.Builder http = Table.builder("N = " + n + " HTTP requests of D = " + d + " ms",
                "side", "variant", "in flight", "wall ms", "runs", "ideal ms", "÷ ideal", "server peak");
        Table.Builder disk = Table.builder("F = " + files + " files of " + fileKb + " KiB, in the page cache",
                "side", "variant", "in flight", "wall ms", "runs", "files/s", "speed-up vs 1 thread");
        double sequential;
        double overlapped;
        Path dir = Files.createTempDirectory("conclab-parallel-io");
        try {
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
                 ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
                try (DelayedServer server = DelayedServer.start(d)) {
                    ctx.progress(0.02, "HTTP one after another, then overlapped");
                    double[] r = overlap(ctx, client, virtual, server, n, d, p, repeats, http);
                    sequential = r[0];
                    overlapped = r[1];
                }
                ctx.progress(0.35, "a server limited to " + k + " at once");
                try (DelayedServer limited = DelayedServer.start(d, k)) {
                    plateau(ctx, client, virtual, limited, n, d, k, repeats, http);
                }
            }
            ctx.progress(0.6, "reading " + files + " files");
            writeFiles(dir, files, fileKb);
            files(ctx, dir, files, repeats, sequential / overlapped, disk);
            ctx.progress(0.75, "CPython: parallel_io.py");
            python(ctx, dir, n, d, files, repeats, http, disk);
        } finally {
            deleteTree(dir);
        }
        ctx.table(http.build());
        ctx.table(disk.build());
        ctx.progress(1, "done");
    }

    // ---- HTTP: sequential vs overlapped -----------------------------------------------------------------------

    private static HttpRequest get(DelayedServer server) {
        return HttpRequest.newBuilder(URI.create(server.url())).timeout(Duration.ofSeconds(30)).build();
    }

    private static void send(HttpClient client, DelayedServer server) throws IOException, InterruptedException {
        int status = client.send(get(server), HttpResponse.BodyHandlers.ofString()).statusCode();
        if (status != 200) {
            throw new IOException("HTTP " + status);
        }
    }

    /** Returns {sequential ms, best overlapped ms}. */
    private static double[] overlap(RunContext ctx, HttpClient client, ExecutorService virtual, DelayedServer server,
                                    int n, int d, int p, int repeats, Table.Builder table) throws Exception {
        send(client, server); // the first request pays for class loading and the connection: not timed
        // One after another takes N × D by construction, so one run is enough to show it.
        double sequential = Measure.bestOf(1, ctx, () -> {
            for (int i = 0; i < n; i++) {
                send(client, server);
            }
        }).bestMillis();
        double pool;
        try (ExecutorService threads = prestarted(p)) {
            pool = Measure.bestOf(repeats, ctx, () -> fanOut(threads, n, () -> send(client, server))).bestMillis();
        }
        server.resetPeak();
        double threads = Measure.bestOf(repeats, ctx, () -> fanOut(virtual, n, () -> send(client, server)))
                .bestMillis();
        int virtualPeak = server.peakInService();
        server.resetPeak();
        double async = Measure.bestOf(repeats, ctx, () -> {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                all.add(client.sendAsync(get(server), HttpResponse.BodyHandlers.ofString()));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        }).bestMillis();
        int asyncPeak = server.peakInService();
        double waves = Math.ceil((double) n / p) * d;
        table.row("JVM", "BASELINE one after another (HttpClient.send)", 1, sequential, 1, (double) n * d,
                        sequential / ((double) n * d), "")
                .row("JVM", "fixed pool of " + p + " platform threads", p, pool, repeats, waves, pool / waves, "")
                .row("JVM", "a virtual thread per request", n, threads, repeats, (double) d, threads / d,
                        virtualPeak)
                .row("JVM", "HttpClient.sendAsync × " + n + " + allOf", n, async, repeats, (double) d, async / d,
                        asyncPeak);
        double bound = 2.0 * d + SLACK_MS;
        ctx.claim(HTTP_OVERLAP, Verdict.check(sequential >= (double) n * d && threads <= bound && async <= bound,
                String.format("one after another %.0f ms (needs ≥ N × D = %d ms); virtual threads %.1f ms, sendAsync"
                                + " %.1f ms (best of %d; needs ≤ %.0f ms = 2 × %d + %.0f)", sequential, n * d, threads,
                        async, repeats, bound, d, SLACK_MS)));
        double poolBound = 1.5 * waves + SLACK_MS;
        ctx.claim(POOL_WAVES, Verdict.check(pool >= waves && pool <= poolBound, String.format(
                "pool of %d: %.1f ms (needs %.0f ≤ wall ≤ %.0f ms: ⌈%d/%d⌉ = %d waves of %d ms)", p, pool, waves,
                poolBound, n, p, (int) Math.ceil((double) n / p), d)));
        return new double[] {sequential, Math.min(threads, async)};
    }

    private interface Call {
        void call() throws Exception;
    }

    /** N calls on the executor, all submitted at once; waits for all and rethrows the first failure. */
    private static void fanOut(ExecutorService executor, int n, Call call) throws Exception {
        List<Future<Object>> futures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            futures.add(executor.submit(() -> {
                call.call();
                return null;
            }));
        }
        for (Future<Object> f : futures) {
            f.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private static ExecutorService prestarted(int p) {
        java.util.concurrent.ThreadPoolExecutor pool = (java.util.concurrent.ThreadPoolExecutor)
                Executors.newFixedThreadPool(p, Thread.ofPlatform().name("parallel-io-pool-", 0).factory());
        pool.prestartAllCoreThreads(); // a pool outlives its batches: its start-up is not what is measured
        return pool;
    }

    // ---- HTTP: the server's limit -----------------------------------------------------------------------------

    private static void plateau(RunContext ctx, HttpClient client, ExecutorService virtual, DelayedServer server,
                                int n, int d, int k, int repeats, Table.Builder table) throws Exception {
        send(client, server);
        double ideal = Math.ceil((double) n / k) * d;
        double bound = 1.5 * ideal + SLACK_MS;
        int half = Math.max(1, k / 2);
        List<Integer> levels = new ArrayList<>(List.of(half, k, Math.max(n, 2 * k)));
        StringBuilder detail = new StringBuilder();
        boolean holds = true;
        double atHalf = 0;
        double atK = 0;
        for (int c : levels) {
            server.resetPeak();
            double wall = Measure.bestOf(repeats, ctx, () -> {
                Semaphore permits = new Semaphore(c);
                fanOut(virtual, n, () -> {
                    permits.acquire();
                    try {
                        send(client, server);
                    } finally {
                        permits.release();
                    }
                });
            }).bestMillis();
            int peak = server.peakInService();
            double levelIdeal = Math.ceil((double) n / Math.min(c, k)) * d;
            table.row("JVM", "server limit K = " + k + ", virtual threads + Semaphore(" + c + ")", c, wall, repeats,
                    levelIdeal, wall / levelIdeal, peak);
            if (c == half) {
                atHalf = wall;
            } else if (c == k) {
                atK = wall;
            }
            if (c >= k) {
                boolean ok = wall >= ideal && wall <= bound && peak == k;
                holds &= ok;
                detail.append(String.format("c = %d: %.1f ms, peak %d; ", c, wall, peak));
            }
        }
        boolean helpsBelow = atHalf >= 1.5 * atK;
        ctx.claim(SERVER_PLATEAU, Verdict.check(holds && helpsBelow, detail + String.format(
                "(needs peak %d and %.0f ≤ wall ≤ %.0f ms = 1.5 × ⌈%d/%d⌉ × %d + %.0f); c = %d took %.1f ms, %.2f× c ="
                        + " K (needs ≥ 1.5×)", k, ideal, bound, n, k, d, SLACK_MS, half, atHalf, atHalf / atK)));
    }

    // ---- files ------------------------------------------------------------------------------------------------

    private static Path file(Path dir, int i) {
        return dir.resolve(String.format("f%06d.bin", i));
    }

    private static void writeFiles(Path dir, int count, int kb) throws IOException {
        byte[] content = new byte[kb * 1024];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + 7);
        }
        for (int i = 0; i < count; i++) {
            Files.write(file(dir, i), content);
        }
    }

    private static long readOne(Path path) {
        try {
            return Files.readAllBytes(path).length;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void files(RunContext ctx, Path dir, int count, int repeats, double httpSpeedup,
                              Table.Builder table) throws Exception {
        int cores = ctx.cores();
        long expected = Files.size(file(dir, 0)) * count;
        int asyncLanes = 16;
        ExecutorService pool = prestarted(cores);
        ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
        ExecutorService channelPool = prestarted(asyncLanes);
        double single = Double.MAX_VALUE;
        double pooled = Double.MAX_VALUE;
        double threads = Double.MAX_VALUE;
        double async = Double.MAX_VALUE;
        try {
            List<Call> variants = List.of(
                    () -> check(expected, readSequentially(dir, count)),
                    () -> check(expected, readOn(pool, dir, count)),
                    () -> check(expected, readOn(virtual, dir, count)),
                    () -> check(expected, readAsync(channelPool, dir, count, asyncLanes)));
            // The first round warms the page cache and the JIT for every variant and is not counted; then the
            // variants take turns, so a slow spell of the shared machine is spread over all of them.
            for (int round = 0; round <= repeats; round++) {
                double[] ms = new double[variants.size()];
                for (int v = 0; v < variants.size(); v++) {
                    ms[v] = Measure.bestOf(1, ctx, variants.get(v)::call).bestMillis();
                }
                if (round > 0) {
                    single = Math.min(single, ms[0]);
                    pooled = Math.min(pooled, ms[1]);
                    threads = Math.min(threads, ms[2]);
                    async = Math.min(async, ms[3]);
                }
            }
        } finally {
            for (ExecutorService e : List.of(pool, virtual, channelPool)) {
                e.shutdown();
                e.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        double limit = cores + 1;
        table.row("JVM", "BASELINE one thread, Files.readAllBytes", 1, single, repeats, count / single * 1e3, 1.0)
                .row("JVM", "fixed pool of " + cores + " (one per core)", cores, pooled, repeats,
                        count / pooled * 1e3, single / pooled)
                .row("JVM", "a virtual thread per file", count, threads, repeats, count / threads * 1e3,
                        single / threads)
                .row("JVM", "AsynchronousFileChannel on a pool of " + asyncLanes, asyncLanes, async, repeats,
                        count / async * 1e3, single / async);
        double best = Math.max(single / pooled, Math.max(single / threads, single / async));
        // The bound assumes the cores are this run's: on a machine busy with other processes, more threads also
        // win a larger share of the contended CPU from the neighbours, so a failure there is skipped, not judged.
        ctx.requireCores(FILES_CPU, 1);
        ctx.claim(FILES_CPU, Verdict.check(best <= limit && httpSpeedup >= 4, String.format(
                "speed-ups over one thread (%.0f ms): pool %.2f×, virtual threads %.2f×, AsynchronousFileChannel"
                        + " %.2f× (needs each ≤ cores + 1 = %.0f); overlapped HTTP was %.1f× faster than one after"
                        + " another (needs ≥ 4)", single, single / pooled, single / threads, single / async, limit,
                httpSpeedup)));
    }

    private static void check(long expected, long read) {
        if (read != expected) {
            throw new IllegalStateException("read " + read + " bytes, expected " + expected);
        }
    }

    private static long readSequentially(Path dir, int count) {
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += readOne(file(dir, i));
        }
        return total;
    }

    private static long readOn(ExecutorService executor, Path dir, int count) throws Exception {
        List<Future<Long>> futures = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Path path = file(dir, i);
            futures.add(executor.submit(() -> readOne(path)));
        }
        long total = 0;
        for (Future<Long> f : futures) {
            total += f.get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        }
        return total;
    }

    /** {@code lanes} chains, each opening, reading and closing its next file when the last read completes. */
    private static long readAsync(ExecutorService pool, Path dir, int count, int lanes) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicLong total = new AtomicLong();
        List<CompletableFuture<Void>> chains = new ArrayList<>(lanes);
        for (int lane = 0; lane < lanes; lane++) {
            chains.add(asyncChain(pool, dir, count, next, total));
        }
        CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new)).get(GIVE_UP_MILLIS, TimeUnit.MILLISECONDS);
        return total.get();
    }

    private static CompletableFuture<Void> asyncChain(ExecutorService pool, Path dir, int count, AtomicInteger next,
                                                      AtomicLong total) {
        int i = next.getAndIncrement();
        if (i >= count) {
            return CompletableFuture.completedFuture(null);
        }
        return readAsync(pool, file(dir, i)).thenCompose(bytes -> {
            total.addAndGet(bytes);
            return asyncChain(pool, dir, count, next, total);
        });
    }

    /** One whole small file read with AsynchronousFileChannel; the channel is closed when the read completes. */
    private static CompletableFuture<Integer> readAsync(ExecutorService pool, Path path) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        try {
            AsynchronousFileChannel channel = AsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ),
                    pool);
            ByteBuffer buffer = ByteBuffer.allocate((int) channel.size());
            channel.read(buffer, 0, null, new CompletionHandler<Integer, Void>() {
                @Override
                public void completed(Integer bytes, Void attachment) {
                    close(channel);
                    done.complete(bytes); // the files are small: one read returns them whole
                }

                @Override
                public void failed(Throwable e, Void attachment) {
                    close(channel);
                    done.completeExceptionally(e);
                }
            });
        } catch (IOException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private static void close(AsynchronousFileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, Path dir, int n, int d, int files, int repeats, Table.Builder http,
                               Table.Builder disk) throws Exception {
        try (DelayedServer server = DelayedServer.start(d)) {
            long budget = 30_000 + (long) n * d * 2 + (long) repeats * 4 * d;
            ProbeOutcome outcome = PythonProbes.of(ctx).run("parallel_io.py", List.of(), Duration.ofMillis(budget),
                    "--port", Integer.toString(server.port()), "--requests", Integer.toString(n), "--delay-ms",
                    Integer.toString(d), "--dir", dir.toString(), "--files", Integer.toString(files), "--repeat",
                    Integer.toString(repeats));
            switch (outcome) {
                case ProbeOutcome.Unavailable missing -> {
                    missing.skip(ctx, PY_HTTP, PY_FILES);
                    ctx.note("CPython side skipped: " + missing.reason());
                }
                case ProbeOutcome.Ran ran -> pythonResults(ctx, ran, n, d, files, repeats, http, disk);
            }
        }
    }

    private static void pythonResults(RunContext ctx, ProbeOutcome.Ran ran, int n, int d, int files, int repeats,
                                      Table.Builder http, Table.Builder disk) {
        JsonNode j = ran.json();
        String py = "CPython " + ran.interpreter().version();
        double seq = j.path("http_sequential_s").asDouble() * 1e3;
        double threads = j.path("http_threads_s").asDouble() * 1e3;
        double streams = j.path("http_asyncio_s").asDouble() * 1e3;
        http.row(py, "BASELINE one after another (http.client)", 1, seq, 1, (double) n * d, seq / ((double) n * d), "")
                .row(py, "ThreadPoolExecutor(max_workers=" + n + "), http.client", n, threads, repeats, (double) d,
                        threads / d, "")
                .row(py, "asyncio streams + gather", n, streams, repeats, (double) d, streams / d, "");
        double bound = 2.0 * d + PY_SLACK_MS;
        ctx.claim(PY_HTTP, Verdict.check(seq >= (double) n * d && threads <= bound && streams <= bound,
                String.format("one after another %.0f ms (needs ≥ %d); ThreadPoolExecutor %.1f ms, asyncio streams"
                        + " %.1f ms (best of %d; needs ≤ %.0f ms = 2 × %d + %.0f)", seq, n * d, threads, streams,
                        repeats, bound, d, PY_SLACK_MS)));

        int cpus = j.path("cpu_count").asInt();
        int defaultWorkers = j.path("default_max_workers").asInt();
        double single = j.path("files_sequential_s").asDouble() * 1e3;
        double pool = j.path("files_threads_s").asDouble() * 1e3;
        double toThread = j.path("files_to_thread_s").asDouble() * 1e3;
        disk.row(py, "BASELINE one thread, open().read()", 1, single, repeats, files / single * 1e3, 1.0)
                .row(py, "ThreadPoolExecutor() (default " + defaultWorkers + " workers)", defaultWorkers, pool,
                        repeats, files / pool * 1e3, single / pool)
                .row(py, "asyncio.to_thread × " + files + " + gather", defaultWorkers, toThread, repeats,
                        files / toThread * 1e3, single / toThread);
        int expectedWorkers = Math.min(32, cpus + 4);
        double limit = ctx.cores() + 1;
        // Where asyncio.to_thread's reads ran: worker threads of the default executor, never the loop's thread.
        int workers = j.path("to_thread_workers").asInt(-1);
        boolean offLoop = j.path("to_thread_on_loop_thread").asInt(-1) == 0;
        ctx.claim(PY_FILES, Verdict.check(defaultWorkers == expectedWorkers && offLoop && workers >= 1
                && workers <= defaultWorkers && single / pool <= limit && single / toThread <= limit, String.format(
                "default max_workers %d with os.cpu_count() = %d (needs min(32, %d + 4) = %d); asyncio.to_thread"
                        + " read on %d worker threads named %s (needs 1..%d), %d reads on the loop's thread (needs"
                        + " 0); speed-ups over one thread (%.0f ms): ThreadPoolExecutor %.2f×, asyncio.to_thread"
                        + " %.2f× (needs each ≤ cores + 1 = %.0f)", defaultWorkers, cpus, cpus, expectedWorkers,
                workers, j.path("to_thread_prefix").asText(), defaultWorkers,
                j.path("to_thread_on_loop_thread").asInt(-1), single, single / pool, single / toThread, limit)));
    }
}
