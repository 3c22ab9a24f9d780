package dev.conclab.jobs.broker.redis;

import dev.conclab.jobs.broker.Delivery;
import dev.conclab.jobs.broker.Settlement;
import dev.conclab.jobs.broker.TaskMessage;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small throughput harness (not a test; the lead's JMH bench comes later): no-op tasks through a private
 * redis-server, two "workers" each with a broker instance (its own connection pool) and one fetch loop that
 * reserves up to {@value #PREFETCH}, marks each started and settles the batch with {@code settleAll}. Phases:
 * enqueue alone, drain alone, and end to end (a producer submitting while both workers run). Prints the best of
 * the repeats. Run: {@code java -cp <test classpath> dev.conclab.jobs.broker.redis.RedisBrokerThroughput
 * [tasks] [repeats] [none|everysec|always] [started|nostarted]}.
 */
public final class RedisBrokerThroughput {

    private static final int PREFETCH = 256;
    private static final int SUBMIT_BATCH = 500;
    private static final Duration VISIBILITY = Duration.ofSeconds(30);
    private static final List<String> QUEUES = List.of(TaskMessage.DEFAULT_QUEUE);

    private RedisBrokerThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String fsync = args.length > 2 ? args[2] : "none";
        boolean markStarted = args.length <= 3 || !args[3].equals("nostarted");
        try (RedisServerFixture server = fsync.equals("none") ? RedisServerFixture.startVolatile()
                : RedisServerFixture.startWithAppendFsync(fsync)) {
            System.out.printf("%d no-op tasks, 2 workers (prefetch %d, %s), appendfsync %s, %d cores, best of %d%n",
                    tasks, PREFETCH, markStarted ? "started() per task" : "no started()", fsync,
                    Runtime.getRuntime().availableProcessors(), repeats);
            double bestEnqueue = 0;
            double bestDrain = 0;
            double bestEndToEnd = 0;
            Histogram bestLatency = null;
            for (int r = 0; r < repeats; r++) {
                RedisBrokerConfig store = server.config("bench-" + UUID.randomUUID() + ":");
                try (RedisBroker producer = RedisBroker.open(store)) {
                    long t0 = System.nanoTime();
                    submit(producer, tasks);
                    bestEnqueue = Math.max(bestEnqueue, tasks / seconds(t0));
                    long t1 = System.nanoTime();
                    runWorkers(store, tasks, markStarted, new Histogram(3));
                    bestDrain = Math.max(bestDrain, tasks / seconds(t1));
                }
                RedisBrokerConfig store2 = server.config("bench-" + UUID.randomUUID() + ":");
                try (RedisBroker producer = RedisBroker.open(store2)) {
                    Histogram latency = new Histogram(3);
                    long t0 = System.nanoTime();
                    Thread submitter = Thread.ofPlatform().name("submitter").start(() -> submit(producer, tasks));
                    runWorkers(store2, tasks, markStarted, latency);
                    submitter.join();
                    double rate = tasks / seconds(t0);
                    if (rate > bestEndToEnd) {
                        bestEndToEnd = rate;
                        bestLatency = latency;
                    }
                }
                System.out.printf("  run %d: enqueue %.0f/s, drain %.0f/s, end to end %.0f/s%n", r + 1, bestEnqueue,
                        bestDrain, bestEndToEnd);
            }
            System.out.printf("this JVM's CPU time: %.1f s%n", java.lang.management.ManagementFactory
                    .getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class).getProcessCpuTime() / 1e9);
            System.out.printf("enqueue (enqueueAll, batches of %d): %,.0f tasks/s%n", SUBMIT_BATCH, bestEnqueue);
            System.out.printf("drain (reserve + started + settleAll, 2 workers): %,.0f tasks/s%n", bestDrain);
            System.out.printf("end to end (submit -> worker -> result, 2 workers): %,.0f tasks/s%n", bestEndToEnd);
            if (Boolean.getBoolean("jobs.bench.commandstats")) {
                try (var jedis = server.client()) {
                    System.out.println(jedis.info("commandstats"));
                    System.out.println(jedis.info("cpu"));
                }
            }
            if (bestLatency != null) {
                System.out.printf("submit -> start latency in that run: p50 %d ms, p99 %d ms, max %d ms%n",
                        bestLatency.getValueAtPercentile(50), bestLatency.getValueAtPercentile(99),
                        bestLatency.getMaxValue());
            }
        }
    }

    private static void submit(RedisBroker producer, int tasks) {
        List<TaskMessage> batch = new ArrayList<>(SUBMIT_BATCH);
        for (int i = 0; i < tasks; i++) {
            batch.add(TaskMessage.of(UUID.randomUUID().toString(), "noop", "[]", System.currentTimeMillis()));
            if (batch.size() == SUBMIT_BATCH || i == tasks - 1) {
                producer.enqueueAll(batch);
                batch.clear();
            }
        }
    }

    /** Two workers drain {@code tasks} settlements between them; returns when all are settled. */
    private static void runWorkers(RedisBrokerConfig store, int tasks, boolean markStarted, Histogram latency)
            throws InterruptedException {
        AtomicLong settled = new AtomicLong();
        CountDownLatch done = new CountDownLatch(2);
        List<Thread> workers = new ArrayList<>();
        Histogram[] perWorker = {new Histogram(3), new Histogram(3)};
        for (int w = 0; w < 2; w++) {
            int index = w;
            workers.add(Thread.ofPlatform().name("worker-" + w).start(() -> {
                try (RedisBroker broker = RedisBroker.open(store)) {
                    String consumer = "worker-" + index;
                    while (settled.get() < tasks) {
                        List<Delivery> got = broker.reserve(consumer, QUEUES, PREFETCH, VISIBILITY,
                                Duration.ofMillis(100));
                        if (got.isEmpty()) {
                            continue;
                        }
                        long now = System.currentTimeMillis();
                        for (Delivery d : got) {
                            perWorker[index].recordValue(Math.max(0, now - d.message().submittedMillis()));
                            if (markStarted) {
                                broker.started(d);
                            }
                        }
                        List<Settlement> results = Collections.nCopies(got.size(), new Settlement.Success("null"));
                        broker.settleAll(got, results);
                        settled.addAndGet(got.size());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }));
        }
        if (!done.await(10, TimeUnit.MINUTES)) {
            workers.forEach(Thread::interrupt);
            throw new IllegalStateException("the workers did not finish within 10 minutes");
        }
        for (Thread t : workers) {
            t.join();
        }
        latency.add(perWorker[0]);
        latency.add(perWorker[1]);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
