package dev.conclab.lab.experiments.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Measure;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Series;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Concurrent database access through a connection pool: HikariCP over SQLite (sqlite-jdbc), and what a pool can and
 * cannot buy.
 *
 * <ol>
 *   <li><b>BASELINE — throughput vs pool size.</b> {@code threads} client threads each borrow a connection, run a
 *       read, and keep the connection for {@code hold-ms} (a simulated I/O wait while holding it, like a slow query
 *       or a call made inside a transaction). Throughput is at most {@code poolSize / hold}: it rises with the pool
 *       until the pool is as large as the number of threads, and not beyond.</li>
 *   <li><b>Queueing.</b> With more threads than connections, the rest wait in {@code getConnection()}. In this closed
 *       system Little's law gives the wait: {@code threads − k} are queued while {@code k} are served at
 *       {@code k / hold} per second, so each waits about {@code (threads − k) × hold / k}. The experiment times every
 *       {@code getConnection()} and samples HikariCP's own gauge {@code getThreadsAwaitingConnection()}.</li>
 *   <li><b>Broken — an exhausted pool.</b> One thread keeps the only connection; another asks for one and gets
 *       {@code SQLTransientConnectionException} after {@code connectionTimeout} (forced: the holder lets go only
 *       after the failure).</li>
 *   <li><b>SQLite's single writer.</b> The same pool shape, with write transactions ({@code BEGIN IMMEDIATE},
 *       insert, hold, commit) vs read transactions, in WAL mode. Writers serialize on the database's one write lock:
 *       more connections add no write throughput, and never more than one writer is inside a transaction; readers
 *       run side by side. A forced check: while a writer holds {@code BEGIN EXCLUSIVE}, a reader with no busy timeout
 *       reads the old snapshot in WAL mode and gets {@code SQLITE_BUSY} in the rollback-journal mode.</li>
 *   <li><b>HikariCP's defaults</b>, read from a pool built with nothing but a URL.</li>
 * </ol>
 * CPython ({@code sqlite_threads.py}): {@code sqlite3} connections refuse use from another thread
 * ({@code check_same_thread=True}); with one connection per thread, reads holding their transaction scale with
 * threads while {@code BEGIN IMMEDIATE} writes serialize, as on the JVM.
 *
 * <p>A server database (PostgreSQL) is not measured here: the card states what changes there, without a claim.
 *
 * <p>Run: {@code ./conclab run connection-pool -p threads=16 -p hold-ms=10}. Expect throughput ≈ k / hold for
 * k ≤ threads and flat beyond, a connection wait close to (threads − k) × hold / k, a timeout after about
 * connectionTimeout, write throughput flat in the number of connections, and read throughput growing with it.
 */
public final class ConnectionPoolExperiment implements Experiment {

    static final ClaimSpec SCALES_WITH_POOL = new ClaimSpec("scales-with-pool",
            "With the connection held for a set time, throughput is at least 0.6× pool size ÷ hold time for every pool"
                    + " no larger than the number of threads, and a pool larger than the thread count adds under 25 %.");
    static final ClaimSpec LITTLES_LAW_WAIT = new ClaimSpec("littles-law-wait",
            "With more threads than connections, the mean wait in getConnection() is within 0.5–1.6× of"
                    + " (threads − k) × hold ÷ k, as Little's law predicts for k connections serving the queue.");
    static final ClaimSpec HIKARI_QUEUE_GAUGE = new ClaimSpec("hikari-queue-gauge",
            "The time-average of HikariCP's getThreadsAwaitingConnection() gauge equals throughput × mean wait"
                    + " (Little's law, L = λW) within 0.7–1.4×.");
    static final ClaimSpec TIMEOUT_WHEN_EXHAUSTED = new ClaimSpec("timeout-when-exhausted",
            "Broken: when the pool's only connection is never returned, getConnection() throws"
                    + " SQLTransientConnectionException after connectionTimeout, not earlier and not much later.");
    static final ClaimSpec SQLITE_ONE_WRITER = new ClaimSpec("sqlite-one-writer",
            "SQLite writes serialize: never more than one write transaction runs at once, and more connections raise"
                    + " write throughput by under 1.3×, while reads with the same connections scale at least 0.5× the"
                    + " number of connections.");
    static final ClaimSpec SQLITE_WAL_READERS = new ClaimSpec("sqlite-wal-readers",
            "In WAL mode a reader runs beside a writer that holds the write lock and sees the last committed data;"
                    + " in rollback-journal mode the same reader gets SQLITE_BUSY.");
    static final ClaimSpec HIKARI_DEFAULTS = new ClaimSpec("hikari-defaults",
            "HikariCP's defaults are maximumPoolSize 10 and connectionTimeout 30 s.");
    static final ClaimSpec PY_CHECK_SAME_THREAD = new ClaimSpec("py-check-same-thread",
            "Python's sqlite3 connection refuses use from another thread with ProgrammingError, because"
                    + " check_same_thread defaults to True.");
    static final ClaimSpec PY_ONE_WRITER = new ClaimSpec("py-one-writer",
            "In CPython too, with one sqlite3 connection per thread, reads scale at least 0.5× the number of threads"
                    + " while BEGIN IMMEDIATE writes run one at a time and gain under 1.3×.");

    /** HikariCP refuses a connectionTimeout below 250 ms. */
    static final long MIN_CONNECTION_TIMEOUT_MS = 250;
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Override
    public String id() {
        return "connection-pool";
    }

    @Override
    public String title() {
        return "Connection pools: throughput vs pool size, queueing for a connection, and SQLite's single writer";
    }

    @Override
    public String description() {
        return "HikariCP over SQLite: client threads holding a connection for a set time, with pools of 1 to 2× the"
                + " thread count; the wait for a connection against Little's law; a pool exhausted until"
                + " connectionTimeout; write vs read transactions in WAL mode; and CPython's sqlite3 with one"
                + " connection per thread.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "client threads", 2, 256, 16, 8),
                new Param.IntParam("hold-ms", "how long each operation keeps its connection, in ms", 1, 1_000, 10, 5),
                new Param.IntParam("ops", "operations per client thread in each run", 1, 10_000, 12, 4));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(SCALES_WITH_POOL, LITTLES_LAW_WAIT, HIKARI_QUEUE_GAUGE, TIMEOUT_WHEN_EXHAUSTED,
                SQLITE_ONE_WRITER, SQLITE_WAL_READERS, HIKARI_DEFAULTS, PY_CHECK_SAME_THREAD,
                PY_ONE_WRITER);
    }

    @Override
    public Duration timeout(boolean quick) {
        return quick ? Duration.ofSeconds(60) : Duration.ofMinutes(10);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int threads = ctx.intParam("threads");
        int holdMs = ctx.intParam("hold-ms");
        int ops = ctx.intParam("ops");
        Path dir = Files.createTempDirectory("conclab-pool");
        try {
            Path db = dir.resolve("lab.db");
            prepare(db, "WAL");

            ctx.progress(0.05, "throughput vs pool size");
            poolSizes(ctx, db, threads, holdMs, ops);

            ctx.progress(0.45, "an exhausted pool");
            exhausted(ctx, db);

            ctx.progress(0.55, "SQLite: writers vs readers");
            singleWriter(ctx, db, threads, holdMs, ops);
            walReaders(ctx, dir);

            defaults(ctx, db);

            ctx.progress(0.8, "CPython: sqlite_threads.py");
            python(ctx, dir, threads, holdMs, ops);
            ctx.progress(1, "done");
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    // ---- setup ------------------------------------------------------------------------------------------------

    /**
     * sqlite-jdbc reads pragmas from the URL: writers wait for the lock in SQLite's busy handler instead of failing
     * at once, and in WAL mode {@code synchronous=NORMAL} skips the fsync per commit, so the hold time dominates.
     */
    private static String url(Path db) {
        return "jdbc:sqlite:" + db.toAbsolutePath() + "?busy_timeout=20000&synchronous=NORMAL";
    }

    /** Creates the table and sets the journal mode, which SQLite stores in the file (WAL) or applies per open. */
    private static void prepare(Path db, String journalMode) throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(url(db));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=" + journalMode);
            s.execute("CREATE TABLE IF NOT EXISTS item(id INTEGER PRIMARY KEY, payload TEXT)");
            s.execute("INSERT INTO item(payload) VALUES ('seed')");
        }
    }

    private static HikariDataSource pool(Path db, int size, long connectionTimeoutMs) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url(db));
        config.setPoolName("lab-pool-" + size);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setConnectionTimeout(connectionTimeoutMs);
        HikariDataSource pool = new HikariDataSource(config);
        awaitFilled(pool, size);
        return pool;
    }

    /** Waits until the pool has opened all its connections, so the timed runs never pay for opening one. */
    private static void awaitFilled(HikariDataSource pool, int size) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (pool.getHikariPoolMXBean().getIdleConnections() < size) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the pool opened only " + pool.getHikariPoolMXBean()
                        .getTotalConnections() + " of " + size + " connections in " + PATIENCE.toSeconds() + " s");
            }
            sleep(1);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    // ---- 1, 2: throughput vs pool size, and the queue -----------------------------------------------------------

    /** What one run of the clients measured. */
    private record Load(double seconds, int operations, double meanWaitMs, int peakInside, double meanAwaiting) {
        double throughput() {
            return operations / seconds;
        }
    }

    private enum Op { READ, WRITE }

    /**
     * {@code threads} platform threads, {@code ops} operations each: borrow, run the operation holding the
     * connection for {@code holdMs}, return. Each {@code getConnection()} is timed; while the clients run, the
     * caller samples the pool's awaiting-threads gauge every millisecond.
     */
    private static Load load(HikariDataSource pool, int threads, int ops, int holdMs, Op op) throws Exception {
        AtomicLong waitNanos = new AtomicLong();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger peakInside = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Integer> awaiting = new ArrayList<>();
        long began;
        long ended;
        try (ExecutorService clients = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(clients.submit(() -> {
                    start.await();
                    for (int i = 0; i < ops; i++) {
                        long asked = System.nanoTime();
                        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                            waitNanos.addAndGet(System.nanoTime() - asked);
                            if (op == Op.WRITE) {
                                s.execute("BEGIN IMMEDIATE"); // take the write lock now, not at the insert
                            } else {
                                s.execute("BEGIN");
                            }
                            int now = inside.incrementAndGet();
                            peakInside.accumulateAndGet(now, Math::max);
                            if (op == Op.WRITE) {
                                s.executeUpdate("INSERT INTO item(payload) VALUES ('w')");
                            } else {
                                try (ResultSet r = s.executeQuery("SELECT count(*) FROM item")) {
                                    r.next();
                                }
                            }
                            Thread.sleep(holdMs); // the simulated I/O wait, connection (and transaction) held
                            inside.decrementAndGet();
                            s.execute("COMMIT");
                        }
                    }
                    return null;
                }));
            }
            began = System.nanoTime();
            start.countDown();
            while (!futures.stream().allMatch(Future::isDone)) {
                awaiting.add(pool.getHikariPoolMXBean().getThreadsAwaitingConnection());
                Thread.sleep(1);
            }
            ended = System.nanoTime();
            for (Future<?> f : futures) {
                f.get(); // rethrows a client's failure
            }
        }
        int total = threads * ops;
        double meanAwaiting = awaiting.stream().mapToInt(Integer::intValue).average().orElse(0);
        return new Load((ended - began) / 1e9, total, waitNanos.get() / 1e6 / total, peakInside.get(),
                meanAwaiting);
    }

    /** Best throughput of several runs, with the run that had it. */
    private static Load best(RunContext ctx, HikariDataSource pool, int threads, int ops, int holdMs, Op op)
            throws Exception {
        Load best = null;
        for (int i = 0; i < ctx.repeats(); i++) {
            ctx.checkCancelled();
            Load run = load(pool, threads, ops, holdMs, op);
            if (best == null || run.throughput() > best.throughput()) {
                best = run;
            }
        }
        return best;
    }

    private static void poolSizes(RunContext ctx, Path db, int threads, int holdMs, int ops) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        for (int k = 1; k < threads; k *= 2) {
            sizes.add(k);
        }
        sizes.add(threads);
        sizes.add(threads * 2);
        Table.Builder table = Table.builder("HikariCP over SQLite: " + threads + " threads, each read holds its"
                        + " connection " + holdMs + " ms", "pool size k", "ops/s", "ideal min(k, threads) ÷ hold",
                "measured ÷ ideal", "mean wait for a connection, ms", "Little's law (threads − k) × hold ÷ k, ms",
                "getThreadsAwaitingConnection (time-average L)", "λ × W");
        List<Series.Point> points = new ArrayList<>();
        double worstRatio = Double.MAX_VALUE;
        String worst = "";
        double atThreads = 0;
        double beyond = 0;
        double worstWait = 1;
        String waitEvidence = "";
        boolean gaugeHolds = true;
        StringBuilder gauge = new StringBuilder();
        for (int k : sizes) {
            Load best;
            try (HikariDataSource pool = pool(db, k, 30_000)) {
                best = best(ctx, pool, threads, ops, holdMs, Op.READ);
            }
            double ideal = Math.min(k, threads) * 1000.0 / holdMs;
            double ratio = best.throughput() / ideal;
            double predicted = k < threads ? (threads - k) * (double) holdMs / k : 0;
            table.row(k, Math.round(best.throughput()), Math.round(ideal), String.format("%.2f", ratio),
                    String.format("%.1f", best.meanWaitMs()), String.format("%.1f", predicted),
                    String.format("%.2f", best.meanAwaiting()),
                    String.format("%.2f", best.throughput() * best.meanWaitMs() / 1000));
            points.add(new Series.Point(k, best.throughput()));
            if (k <= threads && ratio < worstRatio) {
                worstRatio = ratio;
                worst = "k=" + k;
            }
            if (k == threads) {
                atThreads = best.throughput();
            }
            if (k > threads) {
                beyond = best.throughput();
            }
            if (k < threads) {
                double r = best.meanWaitMs() / predicted;
                if (Math.abs(Math.log(r)) > Math.abs(Math.log(worstWait))) {
                    worstWait = r;
                }
                waitEvidence += String.format("%sk=%d: %.1f ms vs %.1f ms (%.2f×)", waitEvidence.isEmpty() ? "" : "; ",
                        k, best.meanWaitMs(), predicted, r);
                double lambdaW = best.throughput() * best.meanWaitMs() / 1000;
                double little = best.meanAwaiting() / lambdaW;
                gaugeHolds &= little >= 0.7 && little <= 1.4;
                gauge.append(gauge.isEmpty() ? "" : "; ").append(String.format(
                        "k=%d: L %.2f vs λW = %.0f/s × %.1f ms = %.2f (%.2f×)", k, best.meanAwaiting(),
                        best.throughput(), best.meanWaitMs(), lambdaW, little));
            }
        }
        ctx.table(table.build());
        ctx.series(new Series("throughput vs pool size", "HikariCP + SQLite reads", "pool size", "ops/s", points));
        double gain = beyond / atThreads;
        ctx.claim(SCALES_WITH_POOL, Verdict.check(worstRatio >= 0.6 && gain < 1.25, String.format(
                "worst measured ÷ ideal for k ≤ %d threads: %.2f at %s (needs ≥ 0.6); pool of %d vs %d: %.2f× (needs"
                        + " < 1.25×)", threads, worstRatio, worst, threads * 2, threads, gain)));
        // The prediction is the steady queue; as the last operations drain, fewer threads wait, so the mean over a
        // short run is lower (0.6–1.05× measured in quick mode, 4 operations per thread): hence the wide low margin.
        ctx.claim(LITTLES_LAW_WAIT, Verdict.check(worstWait >= 0.5 && worstWait <= 1.6,
                waitEvidence + " (each needs 0.5–1.6×)"));
        ctx.claim(HIKARI_QUEUE_GAUGE, Verdict.check(gaugeHolds, gauge + " (each needs 0.7–1.4×)"));
    }

    // ---- 3: the exhausted pool ----------------------------------------------------------------------------------

    private static void exhausted(RunContext ctx, Path db) throws Exception {
        long timeoutMs = MIN_CONNECTION_TIMEOUT_MS;
        try (HikariDataSource pool = pool(db, 1, timeoutMs);
             Connection held = pool.getConnection()) { // held until the waiter has failed: forced
            long asked = System.nanoTime();
            String outcome;
            boolean threw;
            try (Connection second = pool.getConnection()) {
                outcome = "got a connection";
                threw = false;
            } catch (SQLTransientConnectionException e) {
                outcome = e.getClass().getSimpleName() + ": " + e.getMessage();
                threw = true;
            }
            double waited = (System.nanoTime() - asked) / 1e6;
            ctx.table(Table.builder("Broken: a pool of 1 whose connection is never returned (connectionTimeout "
                            + timeoutMs + " ms)", "second getConnection()", "after, ms")
                    .row(outcome, String.format("%.0f", waited)).build());
            ctx.claim(TIMEOUT_WHEN_EXHAUSTED, Verdict.check(threw && waited >= timeoutMs * 0.95
                    && waited <= timeoutMs * 4, String.format("%s after %.0f ms (needs the exception, after %d–%d ms)",
                    threw ? "SQLTransientConnectionException" : "no exception", waited, Math.round(timeoutMs * 0.95),
                    timeoutMs * 4)));
            held.isValid(1); // used after the wait, so it is plainly held throughout
        }
    }

    // ---- 4: SQLite's single writer ------------------------------------------------------------------------------

    private static void singleWriter(RunContext ctx, Path db, int threads, int holdMs, int ops) throws Exception {
        int k = Math.min(threads, 8);
        Table.Builder table = Table.builder("SQLite in WAL mode through HikariCP: transactions holding "
                        + holdMs + " ms, one client thread per connection", "transactions", "connections",
                "transactions/s", "most inside a transaction at once");
        Load write1;
        Load read1;
        try (HikariDataSource pool = pool(db, 1, 30_000)) {
            write1 = best(ctx, pool, 1, ops * 2, holdMs, Op.WRITE);
            read1 = best(ctx, pool, 1, ops * 2, holdMs, Op.READ);
        }
        Load writeK;
        Load readK;
        try (HikariDataSource pool = pool(db, k, 30_000)) {
            writeK = best(ctx, pool, k, ops, holdMs, Op.WRITE);
            readK = best(ctx, pool, k, ops, holdMs, Op.READ);
        }
        table.row("BEGIN IMMEDIATE; INSERT; hold; COMMIT", 1, Math.round(write1.throughput()), write1.peakInside())
                .row("BEGIN IMMEDIATE; INSERT; hold; COMMIT", k, Math.round(writeK.throughput()), writeK.peakInside())
                .row("BEGIN; SELECT; hold; COMMIT", 1, Math.round(read1.throughput()), read1.peakInside())
                .row("BEGIN; SELECT; hold; COMMIT", k, Math.round(readK.throughput()), readK.peakInside());
        ctx.table(table.build());
        double writeGain = writeK.throughput() / write1.throughput();
        double readGain = readK.throughput() / read1.throughput();
        ctx.claim(SQLITE_ONE_WRITER, Verdict.check(writeK.peakInside() == 1 && writeGain < 1.3
                && readGain >= 0.5 * k, String.format("%d connections vs 1: writes %.2f× (needs < 1.3×), at most %d"
                        + " writer inside at once (needs 1); reads %.2f× (needs ≥ %.1f×), %d readers at once",
                k, writeGain, writeK.peakInside(), readGain, 0.5 * k, readK.peakInside())));
    }

    /** A writer holds the lock (forced: it waits on a latch); a reader with no busy timeout tries to read. */
    private static void walReaders(RunContext ctx, Path dir) throws Exception {
        String wal = readBesideWriter(dir.resolve("wal.db"), "WAL");
        String journal = readBesideWriter(dir.resolve("journal.db"), "DELETE");
        ctx.table(Table.builder("A reader while a writer holds BEGIN EXCLUSIVE with an uncommitted insert",
                        "journal_mode", "the reader's SELECT count(*)")
                .row("WAL", wal).row("DELETE (rollback journal)", journal).build());
        ctx.claim(SQLITE_WAL_READERS, Verdict.check(wal.equals("1 row (the committed one)")
                && journal.contains("SQLITE_BUSY"), "WAL: " + wal + " (needs 1 row); rollback journal: " + journal
                + " (needs SQLITE_BUSY)"));
    }

    private static String readBesideWriter(Path db, String mode) throws SQLException {
        prepare(db, mode);
        try (Connection writer = java.sql.DriverManager.getConnection(url(db));
             Statement w = writer.createStatement();
             Connection reader = java.sql.DriverManager.getConnection(url(db));
             Statement r = reader.createStatement()) {
            r.execute("PRAGMA busy_timeout=0"); // fail at once instead of waiting for the lock
            w.execute("BEGIN EXCLUSIVE");
            w.executeUpdate("INSERT INTO item(payload) VALUES ('uncommitted')");
            try (ResultSet rs = r.executeQuery("SELECT count(*) FROM item")) {
                rs.next();
                int n = rs.getInt(1);
                return n == 1 ? "1 row (the committed one)" : n + " rows";
            } catch (SQLException e) {
                return e.getMessage().contains("SQLITE_BUSY") ? "SQLITE_BUSY: " + e.getMessage() : e.getMessage();
            } finally {
                w.execute("ROLLBACK");
            }
        }
    }

    // ---- 5: defaults ----------------------------------------------------------------------------------------------

    private static void defaults(RunContext ctx, Path db) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url(db));
        try (HikariDataSource pool = new HikariDataSource(config)) {
            int size = pool.getMaximumPoolSize();
            long timeout = pool.getConnectionTimeout();
            ctx.claim(HIKARI_DEFAULTS, Verdict.check(size == 10 && timeout == 30_000, String.format(
                    "a HikariDataSource built from a URL alone: maximumPoolSize %d (needs 10), connectionTimeout %d ms"
                            + " (needs 30000)", size, timeout)));
        }
    }

    // ---- CPython -------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, Path dir, int threads, int holdMs, int ops) throws Exception {
        int k = Math.min(threads, 8);
        ProbeOutcome outcome = PythonProbes.of(ctx).run("sqlite_threads.py", List.of("sqlite3"),
                Duration.ofSeconds(120), "--db", dir.resolve("py.db").toString(), "--threads", Integer.toString(k),
                "--hold-ms", Integer.toString(holdMs), "--ops", Integer.toString(ops),
                "--repeat", Integer.toString(ctx.repeats() - 1)); // sleeps, not CPU loops: steady
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_CHECK_SAME_THREAD, PY_ONE_WRITER);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                JsonNode same = json.path("check_same_thread");
                ctx.claim(PY_CHECK_SAME_THREAD, Verdict.check(same.path("default_refused").asBoolean()
                        && !same.path("disabled_refused").asBoolean(), String.format(
                        "a connection made in the main thread, used from another: %s; with check_same_thread=False: %s;"
                                + " %s", same.path("default_error").asText(), same.path("disabled_refused").asBoolean()
                                ? "refused too" : "allowed", py)));
                JsonNode t = json.path("throughput");
                double w1 = t.path("write_1").asDouble();
                double wk = t.path("write_k").asDouble();
                double r1 = t.path("read_1").asDouble();
                double rk = t.path("read_k").asDouble();
                int peakWriters = t.path("peak_writers").asInt();
                ctx.table(Table.builder(py + ": sqlite3, one connection per thread, transactions holding " + holdMs
                                + " ms", "transactions", "threads", "transactions/s", "most inside at once")
                        .row("BEGIN IMMEDIATE; INSERT; hold; COMMIT", 1, Math.round(w1), 1)
                        .row("BEGIN IMMEDIATE; INSERT; hold; COMMIT", k, Math.round(wk), peakWriters)
                        .row("BEGIN; SELECT; hold; COMMIT", 1, Math.round(r1), 1)
                        .row("BEGIN; SELECT; hold; COMMIT", k, Math.round(rk), t.path("peak_readers").asInt())
                        .build());
                ctx.claim(PY_ONE_WRITER, Verdict.check(peakWriters == 1 && wk / w1 < 1.3 && rk / r1 >= 0.5 * k,
                        String.format("%d threads vs 1: writes %.2f× (needs < 1.3×), at most %d writer at once (needs"
                                + " 1); reads %.2f× (needs ≥ %.1f×); %s", k, wk / w1, peakWriters, rk / r1, 0.5 * k,
                                py)));
            }
        }
    }
}
