package dev.conclab.bench.queues;

import dev.conclab.toolkit.channel.BoundedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Producer → consumer hand-off throughput: one thread puts, one thread takes, through each kind of queue.
 *
 * <p><b>BASELINE: {@code ArrayBlockingQueue(capacity)}</b>, one lock and two conditions over an array: the
 * textbook bounded buffer. Variants, all bounded or synchronous so that the producer cannot run away:
 * <ul>
 *   <li>{@code LinkedBlockingQueue(capacity)}: separate locks for the head and the tail (a put and a take do not
 *       contend for one lock), but a node allocated per item;</li>
 *   <li>{@code LinkedTransferQueue} with {@code tryTransfer}: the producer waits until a consumer has the item (it
 *       spins briefly, then parks) — a synchronous hand-off, because the queue itself is unbounded;</li>
 *   <li>{@code SynchronousQueue}: no capacity at all; every put meets a take;</li>
 *   <li>{@code BoundedChannel(capacity)}, the toolkit's closeable channel: one {@code ReentrantLock} and two
 *       conditions, like {@code ArrayBlockingQueue}, plus the closed check.</li>
 * </ul>
 * Both sides use the timed calls ({@code offer/poll} with a timeout, {@code send/receive} with a timeout) and give
 * up once JMH says the iteration is over ({@link Control#stopMeasurement}), so that neither thread is left
 * blocked at the end of an iteration when its partner has stopped. The timeout (10 ms) is far longer than a
 * hand-off, so it does not fire in steady state. The score to read is the {@code take} method's: hand-offs per
 * second ({@code put} counts the same items from the other side; the group total is their sum).
 *
 * <p><b>What to expect.</b> The bounded array- and node-based queues and the channel land in the same range
 * (tens of millions of hand-offs per second): each item costs a short lock acquisition on each side, and a thread
 * parks only when the buffer is full or empty. The synchronous hand-offs
 * ({@code SynchronousQueue}, {@code LinkedTransferQueue.tryTransfer}) make every item a meeting of the two threads,
 * and when the threads do not each have a free core of their own they park and unpark per item: about two orders
 * of magnitude slower. Measured with the default settings (2 forks × 5 × 1 s) on 2 vCPUs (AMD EPYC, JDK 25.0.3),
 * as hand-offs per second and ratio to the baseline; runs 1 and 2 shared the cores with other builds, run 3 had
 * the machine to itself:
 * <pre>
 *   queue                  run 1              run 2              run 3 (idle)
 *   ArrayBlockingQueue     16.5 M  1.00×      26.4 M  1.00×      21.5 M  1.00×
 *   LinkedBlockingQueue    22.0 M  1.33×      19.5 M  0.74×      10.6 M  0.49×
 *   BoundedChannel         26.4 M  1.59×      28.1 M  1.06×      16.2 M  0.75×
 *   LinkedTransferQueue     0.13 M 0.008×      0.11 M 0.004×      0.09 M 0.004×
 *   SynchronousQueue        0.11 M 0.007×      0.11 M 0.004×      0.24 M 0.011×
 * </pre>
 * The 99.9% errors of the three buffered queues were 18–78% of their means, and their order changed from run to
 * run: on such a machine they are equal within noise, and only the two orders of magnitude to the synchronous
 * hand-offs stand out. Compare ratios from the same run, never numbers from different runs.
 *
 * <p><b>Run</b> (from the repository root, with JDK 25):
 * <pre>
 *   mvn -o -q -pl bench -am package -DskipTests
 *   java --sun-misc-unsafe-memory-access=allow -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain
 *   java --sun-misc-unsafe-memory-access=allow -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain --quick
 *   java -jar bench/target/benchmarks.jar HandoffBenchmark -p queue=BoundedChannel,ArrayBlockingQueue
 * </pre>
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow"})
public class HandoffBenchmark {

    /** The baseline's name, which the runner divides by. */
    public static final String BASELINE = "ArrayBlockingQueue";

    private static final long TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** One preallocated item: the benchmark measures the hand-off, not allocation of what is handed off. */
    private static final Integer ITEM = 42;

    @Param({BASELINE, "LinkedBlockingQueue", "LinkedTransferQueue", "SynchronousQueue", "BoundedChannel"})
    public String queue;

    /** Capacity of the bounded queues (ignored by the synchronous ones). */
    @Param({"1024"})
    public int capacity;

    private Handoff handoff;

    @Setup
    public void setUp() {
        handoff = Handoff.of(queue, capacity);
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public boolean put(Control control) throws InterruptedException {
        while (!control.stopMeasurement) {
            if (handoff.offer(ITEM, TIMEOUT_NANOS)) {
                return true;
            }
        }
        return false;
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public Integer take(Control control) throws InterruptedException {
        while (!control.stopMeasurement) {
            Integer item = handoff.poll(TIMEOUT_NANOS);
            if (item != null) {
                return item;
            }
        }
        return null;
    }

    /** One queue behind the two timed calls the benchmark needs. */
    sealed interface Handoff {
        /** Hands {@code item} over within {@code nanos}; false if it could not. */
        boolean offer(Integer item, long nanos) throws InterruptedException;

        /** An item within {@code nanos}, or null. */
        Integer poll(long nanos) throws InterruptedException;

        static Handoff of(String name, int capacity) {
            return switch (name) {
                case BASELINE -> new Blocking(new ArrayBlockingQueue<>(capacity));
                case "LinkedBlockingQueue" -> new Blocking(new LinkedBlockingQueue<>(capacity));
                case "LinkedTransferQueue" -> new Transfer(new LinkedTransferQueue<>());
                case "SynchronousQueue" -> new Blocking(new SynchronousQueue<>());
                case "BoundedChannel" -> new Channel(new BoundedChannel<>(capacity));
                default -> throw new IllegalArgumentException("unknown queue: " + name);
            };
        }
    }

    record Blocking(BlockingQueue<Integer> queue) implements Handoff {
        @Override
        public boolean offer(Integer item, long nanos) throws InterruptedException {
            return queue.offer(item, nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public Integer poll(long nanos) throws InterruptedException {
            return queue.poll(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** An unbounded transfer queue used as a synchronous hand-off, so the producer cannot run ahead. */
    record Transfer(LinkedTransferQueue<Integer> queue) implements Handoff {
        @Override
        public boolean offer(Integer item, long nanos) throws InterruptedException {
            return queue.tryTransfer(item, nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public Integer poll(long nanos) throws InterruptedException {
            return queue.poll(nanos, TimeUnit.NANOSECONDS);
        }
    }

    record Channel(BoundedChannel<Integer> channel) implements Handoff {
        @Override
        public boolean offer(Integer item, long nanos) throws InterruptedException {
            return channel.send(item, nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public Integer poll(long nanos) throws InterruptedException {
            try {
                return channel.receive(nanos, TimeUnit.NANOSECONDS).orElse(null);
            } catch (TimeoutException e) {
                return null;
            }
        }
    }
}
