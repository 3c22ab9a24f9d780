package dev.conclab.lab.experiments.threading;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What a context switch costs: two threads hand a token back and forth, and the time per handoff is measured.
 *
 * <p>A <em>context switch</em> is the scheduler taking one thread off a core and putting another on: it saves the
 * first thread's registers (program counter, stack pointer, ...) into its thread control block, picks the next
 * runnable thread, and restores that thread's registers. For OS threads this happens in the kernel; the direct cost
 * is a microsecond or so, and the indirect cost is that the new thread finds caches and TLB filled with the old
 * thread's data. A <em>handoff</em> — thread A wakes B and goes to sleep, B runs — measures the switch
 * <em>plus</em> the wake-up latency: the system call that wakes B, and, when B sleeps on the other core, the
 * inter-processor interrupt and that core leaving its idle state. It is the cost a program actually pays when
 * threads take turns.
 *
 * <ol>
 *   <li><b>BASELINE — two platform threads</b> ping-pong a turn with {@link LockSupport#park()} and
 *       {@link LockSupport#unpark(Thread)}: each handoff is a futex wake in the kernel and an OS context switch
 *       (on this core or another).</li>
 *   <li><b>Two virtual threads</b>, the same code. A virtual thread that parks unmounts from its carrier (its stack
 *       frames are copied to the heap, a user-mode switch); {@code unpark} schedules the other one on the
 *       {@code ForkJoinPool} scheduler — usually onto the same carrier, which then mounts it without entering the
 *       kernel. But the scheduler may also wake an idle carrier to steal the task, and then the handoff crosses
 *       carriers and pays for an OS wake-up after all: with the default scheduler (one carrier per core) the cost
 *       swings from run to run, and the table shows how many carriers the ping-pong ran on. So the claim is judged
 *       on a child JVM started with {@code -Djdk.virtualThreadScheduler.parallelism=1} (the scheduler's size is fixed
 *       at JVM start): one carrier, so every handoff is a user-mode switch.</li>
 *   <li>The same pair with a {@link SynchronousQueue}, for contrast: it spins briefly before it parks, so on two
 *       idle cores platform threads often hand over without sleeping at all — cheaper, at the price of burning
 *       CPU while waiting.</li>
 *   <li><b>CPython</b> ({@code probes/context_switch.py}): two threads ping-pong through {@code queue.SimpleQueue}
 *       (an OS switch plus a GIL handoff per turn), the same pinned to one core, and two asyncio tasks switching with
 *       {@code await asyncio.sleep(0)} (no OS switch at all: the event loop resumes the other coroutine).</li>
 * </ol>
 *
 * <p>Timings are the best of {@code ctx.repeats()} runs, per handoff (two per round trip), JVM variants taking
 * turns so that a slow spell of the shared machine lands on all of them.
 *
 * <p>Run: {@code ./conclab run context-switch}. Expect a few µs per platform-thread handoff (up to tens of µs when
 * the waiter sleeps on an idle core), well under 1 µs between virtual threads on one carrier (and anywhere from that
 * to a platform handoff's cost on the default scheduler), 5–25 µs between CPython threads and under 2 µs between
 * asyncio tasks.
 */
public final class ContextSwitch implements Experiment {

    static final ClaimSpec VIRTUAL_CHEAPER = new ClaimSpec("virtual-cheaper",
            "A handoff between two virtual threads on one carrier costs at least 3× less than between two platform"
                    + " threads.");
    static final ClaimSpec ASYNCIO_CHEAPER = new ClaimSpec("asyncio-cheaper",
            "In CPython, a switch between two asyncio tasks costs at least 2× less than a handoff between two"
                    + " threads.");

    @Override
    public String id() {
        return "context-switch";
    }

    @Override
    public String title() {
        return "The cost of a handoff: platform threads, virtual threads, CPython threads, asyncio tasks";
    }

    @Override
    public String description() {
        return "Two threads ping-pong a turn N times (park/unpark, SynchronousQueue) as platform and as virtual"
                + " threads; CPython ping-pongs two threads and two asyncio tasks. Reports the time per handoff.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("round-trips", "JVM ping-pong round trips per run (two handoffs each)", 100,
                        10_000_000, 100_000, 20_000),
                new Param.IntParam("py-round-trips", "CPython ping-pong round trips per run", 100, 1_000_000,
                        20_000, 4_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(VIRTUAL_CHEAPER, ASYNCIO_CHEAPER);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int roundTrips = ctx.intParam("round-trips");
        Table.Builder table = Table.builder("Time per handoff (best of " + ctx.repeats() + " runs)", "runtime",
                "threads", "handoff by", "µs per handoff", "note");

        ctx.progress(0.05, "JVM: park/unpark ping-pong, platform and virtual threads");
        double platformPark = Double.MAX_VALUE;
        double virtualPark = Double.MAX_VALUE;
        double platformQueue = Double.MAX_VALUE;
        double virtualQueue = Double.MAX_VALUE;
        Set<String> carriers = ConcurrentHashMap.newKeySet();
        // Interleaved, so that a slow spell of the machine lands on every variant rather than on one.
        for (int i = 0; i < ctx.repeats(); i++) {
            ctx.checkCancelled();
            platformPark = Math.min(platformPark, ParkPingPong.microsPerHandoff(Thread.ofPlatform().daemon(),
                    roundTrips, ConcurrentHashMap.newKeySet()));
            virtualPark = Math.min(virtualPark, ParkPingPong.microsPerHandoff(Thread.ofVirtual(), roundTrips,
                    carriers));
            platformQueue = Math.min(platformQueue, QueuePingPong.microsPerHandoff(Thread.ofPlatform().daemon(),
                    roundTrips));
            virtualQueue = Math.min(virtualQueue, QueuePingPong.microsPerHandoff(Thread.ofVirtual(), roundTrips));
            ctx.progress(0.05 + 0.4 * (i + 1) / ctx.repeats(), "JVM ping-pong, run " + (i + 1));
        }
        table.row("JVM", "2 platform", "LockSupport.park/unpark", platformPark, "futex wake + OS context switch")
                .row("JVM", "2 virtual", "LockSupport.park/unpark", virtualPark, "ran on " + carriers.size()
                        + " carrier thread(s) of " + Runtime.getRuntime().availableProcessors() + " cores")
                .row("JVM", "2 platform", "SynchronousQueue", platformQueue, "spins before parking")
                .row("JVM", "2 virtual", "SynchronousQueue", virtualQueue, "");

        ctx.progress(0.5, "JVM: virtual threads on one carrier (a child JVM)");
        double oneCarrier = OneCarrier.microsPerHandoff(ctx, roundTrips);
        table.row("JVM", "2 virtual, 1 carrier (child JVM)", "LockSupport.park/unpark", oneCarrier,
                "-Djdk.virtualThreadScheduler.parallelism=1; best of "
                        + ctx.repeats() * OneCarrier.CHILD_RUNS_PER_REPEAT + " short runs after a warm-up");
        ctx.claim(VIRTUAL_CHEAPER, Verdict.atLeast(String.format(
                "park/unpark handoff, platform %.2f µs vs virtual on one carrier %.2f µs (on the default scheduler"
                        + " %.2f µs)", platformPark, oneCarrier, virtualPark), platformPark / oneCarrier, 3));

        ctx.progress(0.6, "CPython: thread ping-pong and asyncio task switches");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("context_switch.py", List.of(), Duration.ofSeconds(120),
                "--round-trips", Integer.toString(ctx.intParam("py-round-trips")),
                "--repeat", Integer.toString(ctx.repeats()));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, ASYNCIO_CHEAPER);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                double threads = json.path("thread_handoff_us").asDouble();
                double tasks = json.path("asyncio_switch_us").asDouble();
                table.row("CPython", "2 threads", "queue.SimpleQueue", threads, "OS switch + GIL handoff");
                JsonNode oneCore = json.path("thread_handoff_one_core_us");
                if (oneCore.isNumber()) {
                    table.row("CPython", "2 threads, pinned to 1 core", "queue.SimpleQueue", oneCore.asDouble(),
                            "no cross-core wake-up");
                }
                table.row("CPython", "2 asyncio tasks, 1 thread", "await asyncio.sleep(0)", tasks,
                        "no OS switch, no GIL handoff");
                ctx.claim(ASYNCIO_CHEAPER, Verdict.atLeast(String.format(
                        "CPython thread handoff %.2f µs vs asyncio task switch %.2f µs", threads, tasks),
                        threads / tasks, 2));
            }
        }
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /**
     * Two threads pass a turn back and forth with {@code park}/{@code unpark}: no spinning, so every handoff puts
     * the waiter to sleep and wakes it again. The turn is a volatile field, which also guards against spurious
     * wake-ups from {@code park}.
     */
    static final class ParkPingPong {

        private static final long GIVE_UP_SECONDS = 30;

        private volatile int turn;

        private ParkPingPong() {
        }

        /**
         * Runs {@code roundTrips} round trips on two threads made by {@code builder} and returns the µs per
         * handoff; adds the names of the carriers the threads ran on (virtual threads only) to {@code carriers}.
         */
        static double microsPerHandoff(Thread.Builder builder, int roundTrips, Set<String> carriers)
                throws InterruptedException {
            ParkPingPong game = new ParkPingPong();
            Thread[] players = new Thread[2];
            CountDownLatch go = new CountDownLatch(1);
            long[] span = new long[2];
            for (int me = 0; me < 2; me++) {
                int self = me;
                players[me] = builder.unstarted(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    long start = System.nanoTime();
                    for (int i = 0; i < roundTrips; i++) {
                        while (game.turn != self) {
                            if (Thread.interrupted()) {
                                return; // given up on by microsPerHandoff
                            }
                            LockSupport.park(game);
                        }
                        if (i % 1024 == 0 && Thread.currentThread().isVirtual()) {
                            carriers.add(carrierOf(Thread.currentThread()));
                        }
                        game.turn = 1 - self;
                        LockSupport.unpark(players[1 - self]);
                    }
                    if (self == 0) {
                        span[0] = start;
                        span[1] = System.nanoTime();
                    }
                });
            }
            for (Thread player : players) {
                player.start();
            }
            go.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GIVE_UP_SECONDS);
            for (Thread player : players) {
                if (!player.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    for (Thread p : players) {
                        p.interrupt();
                    }
                    throw new IllegalStateException("the ping-pong did not finish within " + GIVE_UP_SECONDS + " s");
                }
            }
            return (span[1] - span[0]) / 1e3 / (2.0 * roundTrips);
        }

        /**
         * The carrier named in a mounted virtual thread's {@code toString()} ({@code ...@ForkJoinPool-1-worker-2});
         * the JDK has no public API for it, so this is for the table only and never judged.
         */
        private static String carrierOf(Thread virtual) {
            String text = virtual.toString();
            int at = text.lastIndexOf('@');
            return at < 0 ? "?" : text.substring(at + 1);
        }
    }

    /** The same ping-pong through two {@link SynchronousQueue}s, whose {@code put}/{@code take} spin before parking. */
    static final class QueuePingPong {

        private QueuePingPong() {
        }

        static double microsPerHandoff(Thread.Builder builder, int roundTrips) throws InterruptedException {
            SynchronousQueue<Integer> ping = new SynchronousQueue<>();
            SynchronousQueue<Integer> pong = new SynchronousQueue<>();
            long[] span = new long[2];
            Thread echo = builder.start(() -> {
                try {
                    for (int i = 0; i < roundTrips; i++) {
                        pong.put(ping.take());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Thread serve = builder.start(() -> {
                try {
                    span[0] = System.nanoTime();
                    for (int i = 0; i < roundTrips; i++) {
                        ping.put(i);
                        pong.take();
                    }
                    span[1] = System.nanoTime();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            serve.join();
            echo.join();
            return (span[1] - span[0]) / 1e3 / (2.0 * roundTrips);
        }
    }

    /**
     * The virtual-thread ping-pong in a child JVM whose scheduler has one carrier. {@code main(roundTrips, repeats)}
     * prints the best µs per handoff on one line; {@link #microsPerHandoff} starts that JVM as a child of the run
     * and waits for it.
     */
    public static final class OneCarrier {

        private static final long CHILD_TIMEOUT_SECONDS = 60;
        private static final int WARM_UP_ROUND_TRIPS = 50_000;
        /**
         * A one-carrier run is ten times shorter than a platform one, so a slow spell of the shared machine spoils a
         * larger share of it; more runs give the best-of a fair chance of a quiet one.
         */
        static final int CHILD_RUNS_PER_REPEAT = 4;

        private OneCarrier() {
        }

        public static void main(String[] args) throws InterruptedException {
            ParentWatch.exitWithParent();
            int roundTrips = Integer.parseInt(args[0]);
            int repeats = Integer.parseInt(args[1]);
            // A fresh JVM runs the loop interpreted at first; warm it up so the timed runs see compiled code, as the
            // lab's JVM (which has run the other variants) does.
            ParkPingPong.microsPerHandoff(Thread.ofVirtual(), WARM_UP_ROUND_TRIPS, ConcurrentHashMap.newKeySet());
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                best = Math.min(best, ParkPingPong.microsPerHandoff(Thread.ofVirtual(), roundTrips,
                        ConcurrentHashMap.newKeySet()));
            }
            System.out.println(best);
        }

        static double microsPerHandoff(RunContext ctx, int roundTrips) throws IOException, InterruptedException {
            Process child = ctx.children().track(JvmLauncher.ofCurrentJvm()
                    .withOptions("-Djdk.virtualThreadScheduler.parallelism=1", "-XX:+UseSerialGC", "-Xmx64m")
                    .start(OneCarrier.class, Integer.toString(roundTrips),
                            Integer.toString(ctx.repeats() * CHILD_RUNS_PER_REPEAT)));
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                String line = out.readLine();
                if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS) || child.exitValue() != 0
                        || line == null) {
                    throw new IOException("the one-carrier child JVM " + child.pid() + " failed or timed out");
                }
                return Double.parseDouble(line.strip());
            } finally {
                child.destroyForcibly();
            }
        }
    }
}
