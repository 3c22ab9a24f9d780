package dev.conclab.bench.loop;

import dev.conclab.toolkit.loop.SelectorEventLoop;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Event-loop throughput: how many callbacks and how many timers one loop thread runs per second, on the toolkit's
 * {@link SelectorEventLoop} and on Netty's event loops, doing the same micro-work (a counter decremented per
 * callback).
 *
 * <p><b>BASELINE: Netty's NIO event loop</b> ({@code new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())},
 * Netty 4.2's replacement for {@code NioEventLoopGroup}): a task queue, a timer heap and a selector served by one
 * thread — the same anatomy as the toolkit loop. Variants:
 * <ul>
 *   <li>{@code netty-default}: Netty's {@code DefaultEventLoop}, a task queue and a timer heap without a selector
 *       (its thread blocks on the queue);</li>
 *   <li>{@code toolkit}: the toolkit's {@code SelectorEventLoop}, run with {@code runForever} on a platform thread
 *       of its own, like Netty's loops, and called as a user would: {@code callSoon(callback)}, for which the loop
 *       names each handle from {@code callback.toString()} (for a plain object, its class name and identity
 *       hash);</li>
 *   <li>{@code toolkit-named}: the same with a constant name passed ({@code callSoon("callback", callback)}), to
 *       show what that naming costs.</li>
 * </ul>
 * Each loop runs on its own thread; the JMH thread posts one kick-off ({@code callSoonThreadsafe} /
 * {@code execute}) per invocation and waits for a {@code CompletableFuture} that the last callback completes. One
 * invocation runs {@value #BATCH} callbacks (JMH divides by that: the score is callbacks per second), so the
 * cross-thread post and the wake-up of the waiting thread are shared by {@value #BATCH} callbacks. Three shapes:
 * <ul>
 *   <li>{@link #chain}: each callback schedules the next from the loop thread ({@code callSoon} / {@code execute}).
 *       On the toolkit loop, as in asyncio, a callback scheduled by a callback runs in the <em>next</em> iteration, so
 *       every link costs one loop iteration, including a non-blocking {@code selectNow};</li>
 *   <li>{@link #batch}: one callback schedules all {@value #BATCH} at once; they run in one iteration;</li>
 *   <li>{@link #timers}: one callback schedules {@value #BATCH} timers ({@code callLater} / {@code schedule}) with
 *       delays of 0–{@value #BATCH} ns in a scrambled order, so the timer heap must sort them; all are due by the
 *       time the scheduling callback returns, so the score is the heap and dispatch work, not waiting.</li>
 * </ul>
 *
 * <p><b>What to expect.</b> Netty is built for this: between two selector polls its NIO loop runs queued tasks,
 * including those the tasks themselves queue, until the queue is empty or a time quantum has passed. The toolkit
 * loop is a readable model with asyncio's structure: a batch runs in one iteration, but a chain pays one iteration,
 * with its {@code selectNow} system call, per link. Netty's {@code DefaultEventLoop} takes its tasks one at a time
 * from a blocking queue. Timers cost a heap insertion and removal per timer on every loop, which narrows the gaps.
 * Measured with the default settings (2 forks × 5 × 1 s) on 2 vCPUs (AMD EPYC, JDK 25.0.3, Netty 4.2.18.Final), as
 * millions of callbacks per second and ratio to the baseline. <b>Runs 1–3 shared the 2 cores with four other
 * builds (load average 6–13)</b> and ran before unnamed handles were named lazily; run 4 had the machine to itself
 * and runs the current code. The 99.9% errors were 4–70% of the means ({@code toolkit-named} was added for run 3):
 * <pre>
 *   shape   loop            run 1            run 2            run 3            run 4 (idle, lazy names)
 *   batch   netty-nio       32.1 M  1.00×    38.7 M  1.00×    57.5 M  1.00×    15.3 M  1.00×
 *   batch   netty-default   10.5 M  0.33×     8.6 M  0.22×    14.0 M  0.24×     8.9 M  0.58×
 *   batch   toolkit          6.9 M  0.21×     6.4 M  0.17×     7.5 M  0.13×    10.0 M  0.65×
 *   batch   toolkit-named      —                —             18.2 M  0.32×    10.4 M  0.68×
 *   chain   netty-nio       36.9 M  1.00×    34.6 M  1.00×    43.1 M  1.00×    15.3 M  1.00×
 *   chain   netty-default    9.5 M  0.26×    11.2 M  0.33×    12.3 M  0.29×     9.1 M  0.59×
 *   chain   toolkit          2.1 M  0.06×     2.1 M  0.06×     1.9 M  0.04×     2.4 M  0.16×
 *   chain   toolkit-named      —                —              2.2 M  0.05×     2.6 M  0.17×
 *   timers  netty-nio        3.7 M  1.00×     3.6 M  1.00×     3.9 M  1.00×     4.2 M  1.00×
 *   timers  netty-default    2.8 M  0.78×     3.4 M  0.93×     2.8 M  0.73×     3.7 M  0.87×
 *   timers  toolkit          3.5 M  0.95×     2.5 M  0.70×     2.6 M  0.68×     3.8 M  0.89×
 *   timers  toolkit-named      —                —              4.0 M  1.03×     3.9 M  0.93×
 * </pre>
 * So: Netty's NIO loop leads on callbacks in every run, though by how much swings with the machine (1.5–8× in
 * batches); in chains the toolkit pays a selector poll per link and stays 6–25× behind; on timers all three are
 * within 0.7–1.0× of each other. Since unnamed handles are named only when a report asks (run 4), naming costs the
 * toolkit nothing measurable. Netty's absolute numbers varied 4× between runs on this shared VM: compare ratios from
 * the same run, never numbers from different runs.
 *
 * <p><b>Run</b> (from the repository root, with JDK 25):
 * <pre>
 *   mvn -o -q -pl bench -am package -DskipTests
 *   java --sun-misc-unsafe-memory-access=allow -cp bench/target/benchmarks.jar dev.conclab.bench.BenchMain loop
 *   java -jar bench/target/benchmarks.jar LoopThroughputBenchmark.chain -p loop=toolkit,netty-nio
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow"})
public class LoopThroughputBenchmark {

    /** The baseline's name, which the runner divides by. */
    public static final String BASELINE = "netty-nio";

    /** Callbacks (or timers) per invocation. */
    public static final int BATCH = 1000;

    @Param({BASELINE, "netty-default", "toolkit", "toolkit-named"})
    public String loop;

    private BenchLoop bench;

    @Setup
    public void setUp() {
        bench = BenchLoop.of(loop);
    }

    @TearDown
    public void tearDown() throws InterruptedException {
        bench.shutdown();
    }

    /** {@value #BATCH} callbacks, each scheduling the next from the loop thread. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Void chain() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        bench.post(new Chain(bench, BATCH, done));
        return done.join();
    }

    /** {@value #BATCH} callbacks scheduled at once by one callback on the loop thread. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Void batch() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        bench.post(() -> {
            Countdown countdown = new Countdown(BATCH, done);
            for (int i = 0; i < BATCH; i++) {
                bench.soon(countdown);
            }
        });
        return done.join();
    }

    /** {@value #BATCH} timers with scrambled, already-passed deadlines, scheduled by one callback. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Void timers() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        bench.post(() -> {
            Countdown countdown = new Countdown(BATCH, done);
            for (int i = 0; i < BATCH; i++) {
                // 7919 is prime, so i * 7919 mod BATCH visits every delay 0..BATCH-1 ns once, out of order.
                bench.later(i * 7919L % BATCH, countdown);
            }
        });
        return done.join();
    }

    /** Counts callbacks on the loop thread (so a plain int suffices) and completes {@code done} at zero. */
    static final class Countdown implements Runnable {
        private final CompletableFuture<Void> done;
        private int remaining;

        Countdown(int count, CompletableFuture<Void> done) {
            this.remaining = count;
            this.done = done;
        }

        @Override
        public void run() {
            if (--remaining == 0) {
                done.complete(null);
            }
        }
    }

    /** A callback that schedules itself until it has run {@code count} times. */
    static final class Chain implements Runnable {
        private final BenchLoop loop;
        private final CompletableFuture<Void> done;
        private int remaining;

        Chain(BenchLoop loop, int count, CompletableFuture<Void> done) {
            this.loop = loop;
            this.remaining = count;
            this.done = done;
        }

        @Override
        public void run() {
            if (--remaining == 0) {
                done.complete(null);
            } else {
                loop.soon(this);
            }
        }
    }

    /**
     * One event loop behind the three calls the benchmark needs. {@link #post} is thread-safe; {@link #soon} and
     * {@link #later} are called only on the loop thread.
     */
    sealed interface BenchLoop {
        /** Schedules {@code callback} from another thread, waking the loop. */
        void post(Runnable callback);

        /** Schedules {@code callback} from the loop thread, to run after those already scheduled. */
        void soon(Runnable callback);

        /** Schedules {@code callback} from the loop thread, to run once {@code delayNanos} have passed. */
        void later(long delayNanos, Runnable callback);

        /** Stops the loop and waits for its thread to end. */
        void shutdown() throws InterruptedException;

        static BenchLoop of(String name) {
            return switch (name) {
                case BASELINE -> new Netty(new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()));
                case "netty-default" -> new Netty(new DefaultEventLoop());
                case "toolkit" -> Toolkit.start(false);
                case "toolkit-named" -> Toolkit.start(true);
                default -> throw new IllegalArgumentException("unknown loop: " + name
                        + " (known: " + BASELINE + ", netty-default, toolkit, toolkit-named)");
            };
        }
    }

    /** A Netty event loop: a group of one (NIO) or a {@code DefaultEventLoop}, which is its own group. */
    record Netty(EventLoopGroup group, EventLoop loop) implements BenchLoop {
        Netty(EventLoopGroup group) {
            this(group, group.next());
        }

        @Override
        public void post(Runnable callback) {
            loop.execute(callback);
        }

        @Override
        public void soon(Runnable callback) {
            loop.execute(callback);
        }

        @Override
        public void later(long delayNanos, Runnable callback) {
            loop.schedule(callback, delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void shutdown() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * The toolkit loop, running forever on a platform thread of its own until closed. With {@code named}, callbacks
     * are scheduled with a constant name; without, the loop names each from {@code callback.toString()}.
     */
    record Toolkit(SelectorEventLoop loop, Thread thread, boolean named) implements BenchLoop {
        static Toolkit start(boolean named) {
            SelectorEventLoop loop = SelectorEventLoop.builder().name("bench-toolkit-loop").build();
            Thread thread = Thread.ofPlatform().name("bench-toolkit-loop").start(loop::runForever);
            return new Toolkit(loop, thread, named);
        }

        @Override
        public void post(Runnable callback) {
            loop.callSoonThreadsafe(callback);
        }

        @Override
        public void soon(Runnable callback) {
            if (named) {
                loop.callSoon("callback", callback);
            } else {
                loop.callSoon(callback);
            }
        }

        @Override
        public void later(long delayNanos, Runnable callback) {
            if (named) {
                loop.callLater(Duration.ofNanos(delayNanos), "timer", callback);
            } else {
                loop.callLater(Duration.ofNanos(delayNanos), callback);
            }
        }

        @Override
        public void shutdown() throws InterruptedException {
            loop.callSoonThreadsafe(loop::stop);
            thread.join();
            loop.close();
        }
    }
}
