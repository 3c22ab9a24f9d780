package dev.conclab.lab.experiments.asyncio;

import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.experiments.support.ChildLines;
import dev.conclab.lab.experiments.support.CpuWork;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child JVM whose virtual threads all run on ONE carrier thread ({@code jdk.virtualThreadScheduler.parallelism=1},
 * {@code maxPoolSize=1}): the JVM's closest counterpart of a gevent hub or an asyncio loop, one OS thread under many
 * lightweight threads. {@link #run} starts it through the run's {@link RunContext#children()} and returns the
 * numbers it printed, one {@code key value} line each.
 *
 * <p>Modes (the first argument of {@link #main}):
 * <ul>
 *   <li>{@code starve burnMs tickMs repeats}: a ticker asks to run every tickMs while a CPU-bound thread burns
 *       burnMs; prints the ticker's largest gap (smallest of the repeats), in ms, for two virtual threads with
 *       each {@link YieldPoint} in the burn loop, and for two platform threads.</li>
 *   <li>{@code sockets port requests repeats}: that many virtual threads each make one blocking request to a
 *       delayed server on {@code port}; prints the best elapsed time, in ms.</li>
 * </ul>
 * {@link #run} blocks until the child exits or the timeout passes (then the child is destroyed and a
 * {@link ProbeException} is thrown). Thread-safe: it keeps no state.
 */
public final class OneCarrierJvm {

    /** Rounds of {@link CpuWork} between yield points: a few tens of microseconds. */
    private static final long SLICE_ROUNDS = 100_000;

    private OneCarrierJvm() {
    }

    /** Runs the child with {@code args} and returns what it printed, as key → number. */
    static Map<String, Double> run(RunContext ctx, long timeoutMillis, String... args) throws Exception {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx64m",
                "-XX:TieredStopAtLevel=1", "-Djdk.virtualThreadScheduler.parallelism=1",
                "-Djdk.virtualThreadScheduler.maxPoolSize=1");
        Process child = ctx.children().track(launcher.start(OneCarrierJvm.class, args));
        Map<String, Double> values = new HashMap<>();
        for (String line : ChildLines.of(child, "the one-carrier child JVM (" + String.join(" ", args) + ")",
                timeoutMillis)) {
            String[] parts = line.split(" ");
            if (parts.length == 2) {
                values.put(parts[0], Double.parseDouble(parts[1]));
            }
        }
        return values;
    }

    /** The child's entry point; see the class comment for the modes. */
    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        switch (args[0]) {
            case "starve" -> {
                int burn = Integer.parseInt(args[1]);
                int tick = Integer.parseInt(args[2]);
                int repeats = Integer.parseInt(args[3]);
                for (YieldPoint point : YieldPoint.values()) {
                    say("virtual-" + point.key, best(repeats, () -> largestGap(Thread.ofVirtual(), burn, tick,
                            point)));
                }
                say("platform", best(repeats, () -> largestGap(Thread.ofPlatform(), burn, tick, YieldPoint.NONE)));
                say("carrier-parallelism", Double.parseDouble(
                        System.getProperty("jdk.virtualThreadScheduler.parallelism")));
            }
            case "sockets" -> {
                int port = Integer.parseInt(args[1]);
                int requests = Integer.parseInt(args[2]);
                int repeats = Integer.parseInt(args[3]);
                say("virtual-sockets", best(repeats, () -> blockingRequests(port, requests)));
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0] + "; use starve or sockets");
        }
        System.out.flush();
    }

    /** What the CPU-bound thread does after every slice of its burn. */
    enum YieldPoint {
        /** Nothing: it never gives the carrier back. */
        NONE("no-yield"),
        /** {@code Thread.yield()}: a hint to the scheduler. */
        YIELD("yield"),
        /** {@code Thread.sleep(1)}: a real park, which unmounts the virtual thread for a millisecond. */
        SLEEP_1_MS("sleep1");

        final String key;

        YieldPoint(String key) {
            this.key = key;
        }
    }

    private interface Trial {
        double millis() throws Exception;
    }

    private static double best(int repeats, Trial trial) throws Exception {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            best = Math.min(best, trial.millis());
        }
        return best;
    }

    private static void say(String key, double value) {
        System.out.println(key + " " + value);
    }

    /**
     * A ticker that sleeps {@code tick} ms between ticks, and a CPU-bound thread that starts after two ticks and
     * burns {@code burn} ms by the clock (so its burn lies inside the ticker's run); returns the ticker's largest gap.
     */
    static double largestGap(Thread.Builder builder, int burn, int tick,
                             YieldPoint yieldPoint)
            throws InterruptedException {
        AtomicLong gap = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        Thread ticker = builder.start(() -> {
            long previous = System.nanoTime();
            while (!done.get()) {
                try {
                    Thread.sleep(tick);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                gap.accumulateAndGet(now - previous, Math::max);
                previous = now;
            }
        });
        Thread worker = builder.start(() -> {
            try {
                Thread.sleep(2L * tick);
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(burn);
                while (System.nanoTime() < end) {
                    CpuWork.consume(SLICE_ROUNDS);
                    switch (yieldPoint) {
                        case NONE -> { }
                        case YIELD -> Thread.yield();
                        case SLEEP_1_MS -> Thread.sleep(1);
                    }
                }
                Thread.sleep(2L * tick);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.set(true);
        });
        worker.join();
        ticker.join();
        return gap.get() / 1e6;
    }

    /** {@code requests} virtual threads each send one line to the server and read its answer; elapsed ms. */
    static double blockingRequests(int port, int requests) throws InterruptedException {
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            threads.add(Thread.ofVirtual().start(() -> request(port)));
        }
        for (Thread t : threads) {
            t.join();
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /** One blocking request: plain java.net.Socket, as a thread-per-request server would write it. */
    static void request(int port) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
             OutputStream out = socket.getOutputStream();
             BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                     StandardCharsets.US_ASCII))) {
            out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (!"ok".equals(in.readLine())) {
                throw new IOException("the server did not answer ok");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
