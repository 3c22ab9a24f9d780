package dev.conclab.bench.pipeline;

import dev.conclab.toolkit.pipeline.BatchingChannel;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Item hand-off throughput of the pipeline engine's channel against {@link ArrayBlockingQueue}: one producer
 * thread, one consumer thread, items handed over one at a time by the caller.
 *
 * <p><b>BASELINE: {@code ArrayBlockingQueue(room)}</b>: one lock acquisition on each side per item. Variant:
 * {@code BatchingChannel(room, batch)}, the same room (16,384 items, batches of 256 by default), the channel the
 * engine's stages use: a batch at a time moves with one lock acquisition on each side, the rest is a plain array
 * store and load in a thread's own batch, plus the memory fence each send pays so that a partial batch never
 * waits while the receiver does. Neither spins: a side that finds the buffer full or empty parks on a lock
 * condition.
 *
 * <p>Both sides use timed calls and give up once JMH says the iteration is over, as in
 * {@code dev.conclab.bench.queues.HandoffBenchmark}, so no thread is left blocked. The score to read is
 * {@code take}'s: items received per second.
 *
 * <p><b>What to expect.</b> The issue asks for at least 3× the baseline. Measured on 2 vCPUs (AMD EPYC, JDK 25.0.3)
 * with {@code BenchMain pipeline} (2 forks, 5 × 1 s; the 99.9% errors are a quarter to a half of the means), room
 * 16,384, batch 256:
 * <pre>
 *   load avg   ArrayBlockingQueue   BatchingChannel   ratio       (suite runs)
 *   1.5 - 2    11.2 - 25.1 M/s      83 - 87 M/s       3.5 - 7.4×  (3)
 *   3 - 7      17.9 - 33.6 M/s      59 - 96 M/s       1.9 - 3.8×  (5)
 * </pre>
 * The fence per send is what the partial-batch guarantee costs: the same channel with a plain release store
 * instead (an experiment, which may strand a sender's last item) measured 111 - 123 M/s against 58 - 71 M/s with
 * the fence, one fork each; the first design of the channel (whole batches handed over, no guarantee for partial
 * batches) measured 2.6× to 4.0× at load 7.
 *
 * <p>With only two cores shared with other work, a thread is often descheduled; more room lets its partner go on
 * until it is back, and the batch hand-off costs one lock acquisition per batch instead of per item. Run with
 * {@code BenchMain pipeline} (ratios printed with the machine) or
 * {@code java -jar bench/target/benchmarks.jar ChannelHandoffBenchmark}.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow"})
public class ChannelHandoffBenchmark {

    /** The baseline's name, which the runner divides by. */
    public static final String BASELINE = "ArrayBlockingQueue";

    private static final long TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Integer ITEM = 42;

    @Param({BASELINE, "BatchingChannel"})
    public String queue;

    /** Items of room in each: the queue's capacity, the channel's capacity (plus one batch on each side). */
    @Param({"16384"})
    public int room;

    /** The channel's batch size. */
    @Param({"256"})
    public int batch;

    private ArrayBlockingQueue<Integer> abq;
    private BatchingChannel.Sender<Integer> sender;
    private BatchingChannel.Receiver<Integer> receiver;

    @Setup
    public void setUp() {
        abq = new ArrayBlockingQueue<>(room);
        BatchingChannel<Integer> ch = new BatchingChannel<>(room, batch);
        sender = ch.newSender();
        receiver = ch.newReceiver();
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public boolean put(Control control) throws InterruptedException {
        boolean batching = !queue.equals(BASELINE);
        while (!control.stopMeasurement) {
            if (batching ? sender.send(ITEM, TIMEOUT_NANOS, TimeUnit.NANOSECONDS)
                    : abq.offer(ITEM, TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                return true;
            }
        }
        return false;
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public Integer take(Control control) throws InterruptedException {
        boolean batching = !queue.equals(BASELINE);
        while (!control.stopMeasurement) {
            Integer item;
            if (batching) {
                try {
                    item = receiver.receive(TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    item = null;
                }
            } else {
                item = abq.poll(TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            }
            if (item != null) {
                return item;
            }
        }
        return null;
    }
}
