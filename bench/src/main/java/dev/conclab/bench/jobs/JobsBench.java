package dev.conclab.bench.jobs;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Brokers;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.dag.Dag;
import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.DagScheduler;
import dev.conclab.jobs.dag.SchedulerConfig;
import dev.conclab.jobs.dag.store.DagRun;
import dev.conclab.jobs.dag.store.DagStore;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.jobs.worker.PoolKind;
import dev.conclab.jobs.worker.Worker;
import dev.conclab.jobs.worker.WorkerConfig;
import dev.conclab.jobs.worker.WorkerMain;
import dev.conclab.toolkit.process.JvmLauncher;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The task queue's performance targets, measured in this JVM (not JMH: each figure is one whole run of many
 * tasks, the best of a few), on each broker: embedded SQLite, and a private {@code redis-server} started on a free
 * loopback port without persistence and again with {@code appendfsync everysec} (skipped, saying so, when
 * {@code redis-server} is not installed).
 * <ul>
 *   <li><b>broker ceiling</b>: the broker alone, no worker: a producer thread {@code enqueueAll}s batches of 100
 *       while two consumer threads, each on its own broker instance, {@code reserve} 32, {@code startedAll} and
 *       {@code settleAll} them — the broker calls a worker makes per task, with nothing else;</li>
 *   <li><b>2 workers, saturated</b>: the same producer, two {@link Worker}s each with its own broker instance (in
 *       this JVM, and again as two {@link WorkerMain} JVMs), no-op tasks; tasks per second from the first submit
 *       to the last success, as a ratio to the ceiling; with the worker's default {@code trackStarted} (one more
 *       broker write per task) and without it (Celery's {@code task_track_started} default);</li>
 *   <li><b>latency submit→start</b> (HdrHistogram): each task carries its intended submit time
 *       ({@link System#nanoTime}) and returns the time its body started ({@link BenchTasks}); at saturation, and at
 *       a fixed offered rate of half the measured saturation rate (open loop: a late producer does not hide the
 *       delay);</li>
 *   <li><b>DAG</b>: a 1,000-task fan-out/fan-in (1 → 998 → 1) of 10 ms tasks on one real worker of concurrency 8
 *       over SQLite: the run's wall time as a ratio to its critical path at that concurrency
 *       ({@code (1 + ⌈998/8⌉ + 1) × 10 ms}); the scheduler's own round costs beside it.</li>
 * </ul>
 * Every figure carries the 1-minute load average read just before it: on a shared machine it says how much of the
 * cores the run had. Not thread-safe; one run at a time. Every worker, child JVM and redis-server it starts is
 * stopped before it returns.
 */
public final class JobsBench {

    /** The sizes of one run. */
    public record Settings(int tasks, int rounds, Duration fixedRateFor, int concurrency, int prefetchMultiplier,
                           boolean childJvms, int dagMiddle, long dagTaskMillis, int dagConcurrency) {

        /** The figures: 40,000 tasks per run, best of 3. */
        public static Settings full() {
            return new Settings(40_000, 3, Duration.ofSeconds(5), 64, 4, true, 998, 10, 8);
        }

        /** {@code --quick}: a rough run. */
        public static Settings quick() {
            return new Settings(10_000, 2, Duration.ofSeconds(2), 64, 4, true, 998, 10, 8);
        }

        /** A smoke run: small and short, no child JVMs. */
        public static Settings tiny() {
            return new Settings(400, 1, Duration.ofMillis(300), 16, 4, false, 48, 5, 8);
        }
    }

    /** One measured figure, with the 1-minute load average read just before it. */
    public record Figure(String broker, String what, double value, String unit, double target,
                         boolean higherIsBetter, double load, String note) {
        /** Whether the target is met; a target of 0 means "no target". */
        public boolean met() {
            return target == 0 || (higherIsBetter ? value >= target : value <= target);
        }
    }

    /** One run of many tasks: throughput and submit→start latencies in microseconds. */
    record Run(double perSecond, Histogram latencyMicros) {
    }

    private static final int SUBMIT_BATCH = 100;
    private static final List<String> QUEUES = List.of(TaskMessage.DEFAULT_QUEUE);
    private static final Duration VISIBILITY = Duration.ofSeconds(30);
    private static final double SQLITE_TARGET = 5_000;
    private static final double REDIS_TARGET = 15_000;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private JobsBench() {
    }

    // ---------------------------------------------------------------- the whole suite

    /** Runs every measurement of {@code s} and returns its figures in print order. */
    public static List<Figure> run(Settings s, PrintStream progress) throws Exception {
        List<Figure> figures = new ArrayList<>();
        Path dir = Files.createTempDirectory("bench-jobs-");
        try {
            AtomicInteger files = new AtomicInteger();
            figures.addAll(broker("sqlite", SQLITE_TARGET, () -> "sqlite:" + dir.resolve("jobs-"
                    + files.incrementAndGet() + ".db"), s, progress));
            Optional<Path> redis = RedisProcess.executable();
            if (redis.isEmpty()) {
                progress.println("  SKIPPED redis: redis-server is not installed (apt-get install redis-server)");
            } else {
                for (String fsync : new String[] {null, "everysec"}) {
                    try (RedisProcess server = RedisProcess.start(redis.get(), fsync)) {
                        String name = fsync == null ? "redis" : "redis aof " + fsync;
                        figures.addAll(broker(name, REDIS_TARGET, () -> server.url("bench" + PREFIXES
                                .incrementAndGet() + ":"), s, progress));
                    }
                }
            }
            figures.addAll(dag(s, "sqlite:" + dir.resolve("dag.db"), dir.resolve("dag-store.db"), progress));
        } finally {
            deleteTree(dir);
        }
        return figures;
    }

    interface Urls {
        String fresh();
    }

    private static List<Figure> broker(String name, double target, Urls urls, Settings s, PrintStream progress)
            throws Exception {
        List<Figure> figures = new ArrayList<>();
        progress.printf("  %s: warm-up%n", name);
        ceiling(urls.fresh(), s.tasks() / 2);
        workersInJvm(urls.fresh(), s.tasks() / 2, s, true, 0);

        double load = load();
        double ceiling = 0;
        for (int r = 0; r < s.rounds(); r++) {
            ceiling = Math.max(ceiling, ceiling(urls.fresh(), s.tasks()));
        }
        progress.printf("  %s: broker ceiling %,.0f tasks/s%n", name, ceiling);
        figures.add(new Figure(name, "broker alone: enqueueAll + reserve + startedAll + settleAll", ceiling,
                "tasks/s", 0, true, load, "2 consumers, own instances"));

        for (boolean track : new boolean[] {true, false}) {
            load = load();
            Run best = null;
            for (int r = 0; r < s.rounds(); r++) {
                Run run = workersInJvm(urls.fresh(), s.tasks(), s, track, 0);
                if (best == null || run.perSecond() > best.perSecond()) {
                    best = run;
                }
            }
            String how = "2 workers in this JVM, trackStarted " + (track ? "on" : "off");
            progress.printf("  %s: %s: %,.0f tasks/s%n", name, how, best.perSecond());
            figures.add(new Figure(name, how + ", saturated", best.perSecond(), "tasks/s", target, true, load,
                    String.format("%.2f× the broker alone", best.perSecond() / ceiling)));
            figures.add(latency(name, how + ", saturated", best.latencyMicros(), load));
            if (track) {
                double offered = Math.max(100, Math.floor(best.perSecond() / 2 / 100) * 100);
                load = load();
                Run paced = fixedRate(urls.fresh(), offered, s.fixedRateFor(), s);
                progress.printf("  %s: offered %,.0f tasks/s: p99 %.2f ms%n", name, offered,
                        paced.latencyMicros().getValueAtPercentile(99) / 1e3);
                figures.add(new Figure(name, how + ", offered " + (long) offered + "/s: completed", paced
                        .perSecond(), "tasks/s", 0, true, load, "half the saturated rate"));
                figures.add(latency(name, how + ", offered " + (long) offered + "/s", paced.latencyMicros(), load));
            }
        }
        if (s.childJvms()) {
            load = load();
            Run best = workersInChildJvms(urls.fresh(), s, progress);
            String how = "2 WorkerMain JVMs, trackStarted on";
            progress.printf("  %s: %s: %,.0f tasks/s%n", name, how, best.perSecond());
            figures.add(new Figure(name, how + ", saturated", best.perSecond(), "tasks/s", target, true, load,
                    String.format("%.2f× the broker alone", best.perSecond() / ceiling)));
            figures.add(latency(name, how + ", saturated", best.latencyMicros(), load));
        }
        return figures;
    }

    private static Figure latency(String broker, String how, Histogram h, double load) {
        return new Figure(broker, how + ": submit→start p50 / p99 / max", h.getValueAtPercentile(50) / 1e3, "ms",
                0, false, load, String.format("p99 %.2f ms, max %.2f ms, %d tasks",
                        h.getValueAtPercentile(99) / 1e3, h.getMaxValue() / 1e3, h.getTotalCount()));
    }

    // ---------------------------------------------------------------- the broker alone

    /** Tasks per second through the broker's own calls, with no worker: see the class description. */
    static double ceiling(String url, int n) throws Exception {
        List<Broker> brokers = new ArrayList<>();
        try {
            Broker producer = Brokers.open(url);
            brokers.add(producer);
            List<TaskMessage> ms = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ms.add(TaskMessage.of(UUID.randomUUID().toString(), BenchTasks.STAMP, "[0]", 0));
            }
            AtomicLong settled = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> consumers = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                Broker b = Brokers.open(url);
                brokers.add(b);
                String name = "ceiling-" + c;
                consumers.add(Thread.ofPlatform().name("bench-jobs-" + name).start(() -> {
                    try {
                        go.await();
                        while (settled.get() < n) {
                            List<Delivery> got = b.reserve(name, QUEUES, 32, VISIBILITY, Duration.ofMillis(50));
                            if (got.isEmpty()) {
                                continue;
                            }
                            b.startedAll(got);
                            List<Settlement> ok = new ArrayList<>(got.size());
                            for (int i = 0; i < got.size(); i++) {
                                ok.add(new Settlement.Success("0"));
                            }
                            b.settleAll(got, ok);
                            settled.addAndGet(got.size());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            long t0 = System.nanoTime();
            go.countDown();
            for (int i = 0; i < n; i += SUBMIT_BATCH) {
                producer.enqueueAll(ms.subList(i, Math.min(n, i + SUBMIT_BATCH)));
            }
            for (Thread t : consumers) {
                t.join();
            }
            return n / seconds(t0);
        } finally {
            brokers.forEach(Broker::close);
        }
    }

    // ---------------------------------------------------------------- workers

    private static WorkerConfig config(String consumer, Settings s, boolean trackStarted) {
        return WorkerConfig.builder().consumer(consumer).pool(PoolKind.VTHREADS).concurrency(s.concurrency())
                .prefetchMultiplier(s.prefetchMultiplier()).visibility(VISIBILITY).fetchWait(Duration.ofMillis(50))
                .trackStarted(trackStarted).build();
    }

    /** Two workers in this JVM; {@code offered} 0 submits as fast as the producer can, else at that rate. */
    static Run workersInJvm(String url, int n, Settings s, boolean trackStarted, double offered) throws Exception {
        List<Broker> brokers = new ArrayList<>();
        List<Worker> workers = new ArrayList<>();
        try {
            Broker producer = Brokers.open(url);
            brokers.add(producer);
            for (int w = 0; w < 2; w++) {
                Broker b = Brokers.open(url);
                brokers.add(b);
                workers.add(new Worker(b, BenchTasks.REGISTRY, config("bench-w" + w, s, trackStarted)).start());
            }
            LongSupplier finished = () -> workers.stream().mapToLong(w -> w.metrics().succeeded()).sum();
            return submitAndWait(producer, n, offered, finished, 0);
        } finally {
            for (Worker w : workers) {
                w.shutdown(Duration.ofSeconds(5));
            }
            brokers.forEach(Broker::close);
        }
    }

    static Run fixedRate(String url, double offered, Duration d, Settings s) throws Exception {
        int n = (int) Math.max(1, offered * d.toMillis() / 1000);
        return workersInJvm(url, n, s, true, offered);
    }

    /**
     * Submits {@code n} stamp tasks (batches of {@value #SUBMIT_BATCH} as fast as possible, or paced at
     * {@code offered} per second with each task's intended submit time as its argument), waits until
     * {@code finished} reaches {@code base + n} (null: until every task's record says SUCCESS), then reads the
     * stamps back.
     */
    private static Run submitAndWait(Broker producer, int n, double offered, LongSupplier finished, long base)
            throws InterruptedException {
        List<String> ids = new ArrayList<>(n);
        long t0 = System.nanoTime();
        int sent = 0;
        while (sent < n) {
            int due;
            long stampBase;
            if (offered <= 0) {
                due = Math.min(SUBMIT_BATCH, n - sent);
            } else {
                long elapsed = System.nanoTime() - t0;
                due = (int) Math.min(n - sent, (long) (elapsed * offered / 1e9) - sent + 1);
                if (due <= 0) {
                    // submit what is due once a millisecond: one enqueueAll per task would cost the producer a
                    // round trip each; the lateness is charged to the task (its intended time is its stamp)
                    LockSupport.parkNanos(1_000_000);
                    continue;
                }
            }
            List<TaskMessage> batch = new ArrayList<>(due);
            long now = System.nanoTime();
            for (int i = 0; i < due; i++) {
                // paced: the intended time of this task, so a late producer does not hide queueing delay
                long intended = offered <= 0 ? now : t0 + (long) ((sent + i) * 1e9 / offered);
                String id = UUID.randomUUID().toString();
                ids.add(id);
                batch.add(TaskMessage.of(id, BenchTasks.STAMP, "[" + intended + "]", System.currentTimeMillis()));
            }
            producer.enqueueAll(batch);
            sent += due;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int cursor = 0; // with finished == null: every id before it is known to have succeeded
        while (finished == null ? cursor < n : finished.getAsLong() < base + n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not all of " + n + " tasks finished within 120 s");
            }
            if (finished == null) {
                // worker JVMs: read the records in submission order from the first one not yet seen to succeed
                // (one cheap batched read, unlike stats(), which lists every reservation)
                // a small window: re-reading a large unfinished one every poll would load the broker with reads
                // many times the task count, and slow the workers being measured
                List<TaskRecord> chunk = producer.records(ids.subList(cursor, Math.min(n, cursor + 64)));
                int k = 0;
                while (k < chunk.size() && chunk.get(k).state() == TaskState.SUCCESS) {
                    k++;
                }
                cursor += k;
                if (k == 0) {
                    LockSupport.parkNanos(2_000_000);
                }
            } else {
                LockSupport.parkNanos(200_000);
            }
        }
        double perSecond = n / seconds(t0);
        Histogram h = new Histogram(3);
        for (int i = 0; i < ids.size(); i += 1_000) {
            for (TaskRecord r : producer.records(ids.subList(i, Math.min(ids.size(), i + 1_000)))) {
                long submitted = Long.parseLong(r.argsJson().substring(1, r.argsJson().length() - 1));
                long started = Long.parseLong(r.resultJson());
                h.recordValue(Math.max(0, (started - submitted) / 1_000));
            }
        }
        return new Run(perSecond, h);
    }

    /** Two {@link WorkerMain} JVMs on one store: a warm-up run, then the best of the measured rounds. */
    static Run workersInChildJvms(String url, Settings s, PrintStream progress) throws Exception {
        List<Process> children = new ArrayList<>();
        try (Broker producer = Brokers.open(url)) {
            for (int w = 0; w < 2; w++) {
                String consumer = "bench-child-" + w;
                Process child = JvmLauncher.ofCurrentJvm().withOptions("-Xmx512m",
                                "--enable-native-access=ALL-UNNAMED")
                        .start(WorkerMain.class, "--broker", url, "--registry", BenchTasks.class.getName(),
                                "--concurrency", String.valueOf(s.concurrency()), "--prefetch-multiplier",
                                String.valueOf(s.prefetchMultiplier()), "--consumer", consumer,
                                "--exit-with-parent");
                children.add(child);
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8));
                String line = out.readLine();
                if (!("READY " + consumer).equals(line)) {
                    throw new IllegalStateException("worker JVM " + consumer + " said " + line);
                }
                Thread.ofVirtual().start(() -> drain(out)); // its STOPPED line must not block it
            }
            submitAndWait(producer, s.tasks() / 2, 0, null, 0); // warm-up
            Run best = null;
            for (int r = 0; r < s.rounds(); r++) {
                Run run = submitAndWait(producer, s.tasks(), 0, null, 0);
                if (best == null || run.perSecond() > best.perSecond()) {
                    best = run;
                }
            }
            return best;
        } finally {
            for (Process p : children) {
                p.destroy(); // SIGTERM: WorkerMain's graceful stop
            }
            for (Process p : children) {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static void drain(BufferedReader out) {
        try {
            while (out.readLine() != null) {
                // discard
            }
        } catch (IOException e) {
            // the child is gone
        }
    }

    // ---------------------------------------------------------------- the DAG

    static List<Figure> dag(Settings s, String brokerUrl, Path storeFile, PrintStream progress) throws Exception {
        int middle = s.dagMiddle();
        Dag.Builder b = Dag.builder("bench-fan").maxActiveTasks(middle + 2).task("start", "nap")
                .args("[" + s.dagTaskMillis() + "]").add();
        String[] ids = new String[middle];
        for (int i = 0; i < middle; i++) {
            ids[i] = "m" + i;
            b.task(ids[i], "nap").args("[" + s.dagTaskMillis() + "]").after("start").add();
        }
        Dag dag = b.task("end", "nap").args("[" + s.dagTaskMillis() + "]").after(ids).add().build();
        int c = s.dagConcurrency();
        double ideal = (1 + (middle + c - 1) / c + 1) * (double) s.dagTaskMillis();
        WorkerConfig cfg = WorkerConfig.builder().consumer("bench-dag").pool(PoolKind.VTHREADS).concurrency(c)
                .fetchWait(Duration.ofMillis(50)).build();
        try (Broker broker = Brokers.open(brokerUrl);
             DagStore store = DagStore.open(storeFile);
             Worker worker = new Worker(broker, BenchTasks.REGISTRY, cfg).start();
             DagScheduler scheduler = new DagScheduler(broker, store, Clock.systemUTC(), List.of(dag),
                     SchedulerConfig.defaults().withPollInterval(Duration.ofMillis(5)))) {
            scheduler.start();
            double load = load();
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 1 + s.rounds(); r++) { // the first warms the JIT
                long t0 = System.nanoTime();
                DagRun run = scheduler.trigger("bench-fan", Map.of());
                long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
                while (!scheduler.run(run.runId()).orElseThrow().state().isFinal()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the DAG run did not end within 120 s");
                    }
                    LockSupport.parkNanos(1_000_000);
                }
                double ms = (System.nanoTime() - t0) / 1e6;
                if (scheduler.run(run.runId()).orElseThrow().state() != DagRunState.SUCCESS) {
                    throw new IllegalStateException("the DAG run failed: " + scheduler.run(run.runId()));
                }
                if (r > 0) {
                    best = Math.min(best, ms);
                }
            }
            DagScheduler.Stats stats = scheduler.stats();
            progress.printf("  dag: %.0f ms, critical path %.0f ms, %s%n", best, ideal, stats);
            String what = String.format("DAG %d tasks (1→%d→1), %d ms each, 1 worker × %d: wall / critical path",
                    middle + 2, middle, s.dagTaskMillis(), c);
            return List.of(new Figure("sqlite", what, best / ideal, "×", 2.0, false, load, String.format(
                    "%.0f ms vs %.0f ms; scheduler rounds: %d, mean %.2f ms, max %.2f ms", best, ideal,
                    stats.rounds(), stats.meanRoundNanos() / 1e6, stats.maxRoundNanos() / 1e6)));
        }
    }

    // ---------------------------------------------------------------- printing

    public static void print(List<Figure> figures, String machine, PrintStream out) {
        out.println();
        out.println("Task queue: no-op tasks submit → worker → result, and a 1,000-task DAG (JobsBench; load = 1-min"
                + " load average before each figure)");
        out.println("machine: " + machine);
        out.printf("%-16s %-88s %12s %-7s %10s %6s  %s%n", "broker", "figure", "value", "unit", "target", "load",
                "");
        for (Figure f : figures) {
            out.printf("%-16s %-88s %,12.2f %-7s %10s %6.2f  %s%s%n", f.broker(), f.what(), f.value(), f.unit(),
                    f.target() == 0 ? "" : (f.higherIsBetter() ? "≥" : "≤") + String.format("%,.0f", f.target()),
                    f.load(), f.target() == 0 ? "" : f.met() ? "met" : "NOT met",
                    f.note().isEmpty() ? "" : " (" + f.note() + ")");
        }
    }

    /** BenchMain's entry: the sizes, or {@link Settings#quick()}; the table goes to {@code out}. */
    public static void runAndPrint(boolean quick, String machine, PrintStream out) throws InterruptedException {
        try {
            print(run(quick ? Settings.quick() : Settings.full(), out), machine, out);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the jobs suite failed: " + e, e);
        }
    }

    /** Runs the suite ({@code --quick}: smaller) and prints the table. */
    public static void main(String[] args) throws Exception {
        runAndPrint(List.of(args).contains("--quick"), dev.conclab.bench.BenchMain.machine(), System.out);
    }

    // ---------------------------------------------------------------- helpers

    static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
