package dev.conclab.jobs.broker.sqlite;

import dev.conclab.jobs.broker.Broker;
import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A rough throughput harness for the SQLite broker (not JUnit, not JMH: the lead writes the bench). Prints, per
 * scenario, the best of a few runs in messages per second:
 *
 * <pre>
 * java -cp jobs/target/test-classes:jobs/target/classes:DEPS dev.conclab.jobs.broker.sqlite.SqliteThroughput [N]
 * </pre>
 */
public final class SqliteThroughput {
    private static final List<String> QUEUES = List.of(TaskMessage.DEFAULT_QUEUE);
    private static final Duration VIS = Duration.ofMinutes(5);

    private SqliteThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.printf("SQLite broker, %d messages, best of %d, %d cores, %s%n", n, runs,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        report("enqueue one by one (1 tx each)", runs, () -> enqueueOneByOne(Math.min(n, 5_000)));
        report("enqueueAll, batches of 500", runs, () -> enqueueBatched(n, 500));
        report("reserve 64 + settle one by one", runs, () -> drain(n, 64, false, false));
        report("reserve 64 + settleAll", runs, () -> drain(n, 64, true, false));
        report("reserve 64 + started each + settleAll", runs, () -> drain(n, 64, true, true));
        report("end to end, 2 consumers on 1 instance, settleAll", runs, () -> endToEnd(n, 2, false, true, false));
        report("end to end, 2 consumers on 2 instances, settleAll", runs, () -> endToEnd(n, 2, true, true, false));
        report("end to end, 2 consumers on 2 instances, settle each", runs, () -> endToEnd(n, 2, true, false, false));
        report("end to end, 2 on 2 instances, started each + settleAll", runs, () -> endToEnd(n, 2, true, true, true));
    }

    interface Scenario {
        double perSecond() throws Exception;
    }

    private static void report(String name, int runs, Scenario scenario) throws Exception {
        double best = 0;
        List<String> all = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            double r = scenario.perSecond();
            best = Math.max(best, r);
            all.add(String.format("%.0f", r));
        }
        System.out.printf("%-58s %,10.0f msg/s   (runs: %s)%n", name, best, String.join(", ", all));
    }

    private static List<TaskMessage> messages(int n) {
        List<TaskMessage> list = new ArrayList<>(n);
        long now = System.currentTimeMillis();
        for (int i = 0; i < n; i++) {
            list.add(TaskMessage.of(UUID.randomUUID().toString(), "noop", "[]", now));
        }
        return list;
    }

    private static Path freshFile() throws Exception {
        Path dir = Files.createTempDirectory("sqlite-throughput");
        return dir.resolve("broker.db");
    }

    private static void delete(Path file) throws Exception {
        try (Stream<Path> s = Files.walk(file.getParent())) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static double enqueueOneByOne(int n) throws Exception {
        Path file = freshFile();
        try (Broker b = SqliteBroker.open(file)) {
            List<TaskMessage> ms = messages(n);
            long t0 = System.nanoTime();
            for (TaskMessage m : ms) {
                b.enqueue(m);
            }
            return n / seconds(t0);
        } finally {
            delete(file);
        }
    }

    private static double enqueueBatched(int n, int batch) throws Exception {
        Path file = freshFile();
        try (Broker b = SqliteBroker.open(file)) {
            List<TaskMessage> ms = messages(n);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i += batch) {
                b.enqueueAll(ms.subList(i, Math.min(n, i + batch)));
            }
            return n / seconds(t0);
        } finally {
            delete(file);
        }
    }

    private static double drain(int n, int max, boolean batchSettle, boolean started) throws Exception {
        Path file = freshFile();
        try (Broker b = SqliteBroker.open(file)) {
            b.enqueueAll(messages(n));
            long t0 = System.nanoTime();
            int done = 0;
            while (done < n) {
                List<Delivery> got = b.reserve("w", QUEUES, max, VIS, Duration.ZERO);
                done += settle(b, got, batchSettle, started);
            }
            return n / seconds(t0);
        } finally {
            delete(file);
        }
    }

    private static int settle(Broker b, List<Delivery> got, boolean batchSettle, boolean started) {
        if (started) {
            got.forEach(b::started);
        }
        if (batchSettle) {
            List<Settlement> ok = new ArrayList<>(got.size());
            for (int i = 0; i < got.size(); i++) {
                ok.add(new Settlement.Success("null"));
            }
            b.settleAll(got, ok);
        } else {
            for (Delivery d : got) {
                b.settle(d, new Settlement.Success("null"));
            }
        }
        return got.size();
    }

    /** A producer submitting in batches of 100 while consumers reserve 32 at a time; submit of the first to last settle. */
    private static double endToEnd(int n, int consumers, boolean ownInstances, boolean batchSettle, boolean started)
            throws Exception {
        Path file = freshFile();
        List<Broker> brokers = new ArrayList<>();
        try {
            Broker producer = SqliteBroker.open(file);
            brokers.add(producer);
            List<TaskMessage> ms = messages(n);
            AtomicLong settled = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < consumers; c++) {
                Broker b = ownInstances ? SqliteBroker.open(file) : producer;
                if (ownInstances) {
                    brokers.add(b);
                }
                String name = "c" + c;
                threads.add(Thread.ofPlatform().name(name).start(() -> {
                    try {
                        go.await();
                        while (settled.get() < n) {
                            List<Delivery> got = b.reserve(name, QUEUES, 32, VIS, Duration.ofMillis(100));
                            settled.addAndGet(settle(b, got, batchSettle, started));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            go.countDown();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i += 100) {
                producer.enqueueAll(ms.subList(i, Math.min(n, i + 100)));
            }
            for (Thread t : threads) {
                t.join();
            }
            return n / seconds(t0);
        } finally {
            brokers.forEach(Broker::close);
            delete(file);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
