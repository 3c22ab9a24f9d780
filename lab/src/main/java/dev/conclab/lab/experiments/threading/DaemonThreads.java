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
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Daemon threads: what keeps a process alive after its main thread is done, and what happens to a thread that
 * does not.
 *
 * <p>Each case runs in a child JVM ({@link DaemonThreadsChild}), which prints markers on its standard output; the
 * experiment reads them with their arrival times and watches the process.
 * <ol>
 *   <li><b>BASELINE — a non-daemon thread.</b> {@code main} starts a platform thread and returns. The thread joins
 *       the main thread (so it knows {@code main} has really ended), prints "main ended", then blocks reading a
 *       line from standard input, which only the experiment can write. The JVM therefore <em>cannot</em> exit on
 *       its own: the experiment checks it is still running {@code grace-ms} after "main ended", then writes the
 *       line, and sees the thread's {@code finally} run, then the shutdown hook, then the exit.</li>
 *   <li><b>A daemon thread.</b> The same, with {@code setDaemon(true)} before {@code start()}, blocked on a latch
 *       nobody opens. The JVM exits as soon as {@code main} returns, with no input from the experiment; the
 *       shutdown hook runs, and the daemon thread's {@code finally} never does: it is simply abandoned.</li>
 *   <li><b>A virtual thread.</b> {@code Thread.ofVirtual()} threads are always daemon threads ({@code isDaemon()}
 *       is true and {@code setDaemon(false)} throws {@link IllegalArgumentException}), so a JVM whose only other
 *       thread is a blocked virtual thread also exits when {@code main} returns.</li>
 * </ol>
 * In this JVM the experiment also checks that {@code setDaemon} after {@code start()} throws
 * {@link IllegalThreadStateException}, and that a thread created by a daemon thread is a daemon thread too.
 *
 * <p>The CPython probe {@code daemon_threads.py} does the same with child interpreters: a non-daemon thread keeps
 * the interpreter alive after the main thread ends ({@code threading._shutdown} joins it, then {@code atexit}
 * handlers run), and a {@code daemon=True} thread is stopped at exit without running its {@code finally}.
 *
 * <p>Run: {@code ./conclab run daemon-threads}. Expect the non-daemon JVM alive after the grace period and gone
 * within a second of the release; the daemon and virtual JVMs gone within tens of milliseconds of "main done",
 * without their threads' {@code finally} markers.
 */
public final class DaemonThreads implements Experiment {

    static final ClaimSpec NON_DAEMON_KEEPS_JVM = new ClaimSpec("non-daemon-keeps-jvm",
            "A JVM keeps running after main returns while a non-daemon thread is still running, and exits when that"
                    + " thread ends.");
    static final ClaimSpec DAEMON_EXITS_WITH_MAIN = new ClaimSpec("daemon-exits-with-main",
            "With only a daemon thread left, the JVM exits as soon as main returns, and the daemon thread's finally"
                    + " block never runs.");
    static final ClaimSpec VIRTUAL_IS_DAEMON = new ClaimSpec("virtual-is-daemon",
            "Virtual threads are always daemon threads: isDaemon() is true, setDaemon(false) is refused, and a JVM"
                    + " whose only other thread is virtual exits when main returns.");
    static final ClaimSpec SET_DAEMON_BEFORE_START = new ClaimSpec("set-daemon-before-start",
            "setDaemon must be called before start(): on a started thread it throws IllegalThreadStateException;"
                    + " a thread created by a daemon thread is a daemon thread by default.");
    static final ClaimSpec PY_NON_DAEMON_KEEPS = new ClaimSpec("py-non-daemon-keeps-interpreter",
            "A non-daemon Python thread keeps the interpreter running after the main thread has finished; the"
                    + " interpreter exits once that thread ends, and only then runs atexit handlers.");
    static final ClaimSpec PY_DAEMON_KILLED = new ClaimSpec("py-daemon-killed",
            "A Python daemon thread is stopped abruptly when the interpreter exits: its finally block never runs.");
    static final ClaimSpec PY_DAEMON_FLAG = new ClaimSpec("py-daemon-flag",
            "In Python, daemon is set before start() with daemon=True or .daemon = True; a started thread refuses"
                    + " it with RuntimeError, a new thread inherits its creator's flag, and setDaemon() is"
                    + " deprecated.");

    /** How long to wait for a child that should answer or exit soon, before calling it stuck. */
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Override
    public String id() {
        return "daemon-threads";
    }

    @Override
    public String title() {
        return "Daemon, non-daemon and virtual threads at JVM and CPython exit";
    }

    @Override
    public String description() {
        return "Runs child JVMs whose main returns while a non-daemon, a daemon or a virtual thread is blocked, and"
                + " watches which keep the process alive and whose finally blocks run; does the same with child"
                + " CPython interpreters.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("grace-ms",
                "how long the non-daemon child must stay alive after its main ended, before it is released", 50,
                60_000, 1_000, 300));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(NON_DAEMON_KEEPS_JVM, DAEMON_EXITS_WITH_MAIN, VIRTUAL_IS_DAEMON, SET_DAEMON_BEFORE_START,
                PY_NON_DAEMON_KEEPS, PY_DAEMON_KILLED, PY_DAEMON_FLAG);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int grace = ctx.intParam("grace-ms");
        Table.Builder table = Table.builder("Child processes whose main ended while another thread was blocked",
                "runtime", "other thread", "alive after main ended", "finally of that thread ran",
                "exited ms after main done", "markers, in order");

        ctx.progress(0.05, "starting three child JVMs");
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-XX:+UseSerialGC", "-Xmx32m",
                "-XX:TieredStopAtLevel=1");
        // Started together: their start-ups overlap, and each is then examined on its own.
        try (Child nonDaemon = Child.start(ctx, launcher, DaemonThreadsChild.NON_DAEMON);
             Child daemon = Child.start(ctx, launcher, DaemonThreadsChild.DAEMON);
             Child virtual = Child.start(ctx, launcher, DaemonThreadsChild.VIRTUAL)) {

            ctx.progress(0.2, "non-daemon: main ended, holding the worker for " + grace + " ms");
            long mainDone = nonDaemon.await("main done");
            nonDaemon.await("main ended");
            boolean exitedEarly = nonDaemon.process.waitFor(grace, TimeUnit.MILLISECONDS);
            boolean aliveAfterGrace = !exitedEarly && nonDaemon.process.isAlive();
            long released = System.nanoTime();
            nonDaemon.release();
            int nonDaemonStatus = nonDaemon.awaitExit();
            long nonDaemonExit = nonDaemon.exitNanos - mainDone;
            List<String> nd = nonDaemon.markers();
            boolean orderly = indexOf(nd, "worker released") >= 0
                    && indexOf(nd, "worker released") < indexOf(nd, "worker finally")
                    && indexOf(nd, "worker finally") < indexOf(nd, "shutdown hook");
            table.row("JVM", "platform, non-daemon", aliveAfterGrace ? "yes, " + grace + " ms later (then released)"
                            : "NO", nd.contains("worker finally") ? "yes" : "no", ms(nonDaemonExit) + " ("
                            + ms(nonDaemon.exitNanos - released) + " after the release)",
                    String.join(" → ", nd));
            ctx.claim(NON_DAEMON_KEEPS_JVM, Verdict.check(aliveAfterGrace && orderly && nonDaemonStatus == 0,
                    String.format("child JVM still running %d ms after its main thread ended: %s; after the"
                                    + " release it exited with status %d, %.0f ms after main done; markers: %s",
                            grace, aliveAfterGrace, nonDaemonStatus, nonDaemonExit / 1e6, String.join(" → ", nd))));

            ctx.progress(0.3, "daemon: waiting for the JVM to exit on its own");
            long daemonMainDone = daemon.await("main done");
            int daemonStatus = daemon.awaitExit();
            long daemonExit = daemon.exitNanos - daemonMainDone;
            List<String> dm = daemon.markers();
            boolean daemonHolds = daemonStatus == 0 && dm.contains("daemon started isDaemon=true")
                    && !dm.contains("daemon finally") && dm.contains("shutdown hook");
            table.row("JVM", "platform, setDaemon(true)", "no", dm.contains("daemon finally") ? "yes" : "no",
                    ms(daemonExit), String.join(" → ", dm));
            ctx.claim(DAEMON_EXITS_WITH_MAIN, Verdict.check(daemonHolds, String.format(
                    "with no input from the parent, the child JVM exited with status %d %.0f ms after main done;"
                            + " its daemon thread was still blocked and its finally marker is %s; markers: %s",
                    daemonStatus, daemonExit / 1e6, dm.contains("daemon finally") ? "present" : "absent",
                    String.join(" → ", dm))));

            ctx.progress(0.4, "virtual: waiting for the JVM to exit on its own");
            long virtualMainDone = virtual.await("main done");
            int virtualStatus = virtual.awaitExit();
            long virtualExit = virtual.exitNanos - virtualMainDone;
            List<String> vm = virtual.markers();
            boolean virtualHolds = virtualStatus == 0 && vm.contains("virtual started isDaemon=true")
                    && vm.contains("setDaemon(false) refused: IllegalArgumentException")
                    && !vm.contains("virtual finally");
            table.row("JVM", "virtual", "no", vm.contains("virtual finally") ? "yes" : "no", ms(virtualExit),
                    String.join(" → ", vm));
            ctx.claim(VIRTUAL_IS_DAEMON, Verdict.check(virtualHolds, String.format(
                    "child JVM with a blocked virtual thread exited with status %d %.0f ms after main done;"
                            + " markers: %s", virtualStatus, virtualExit / 1e6, String.join(" → ", vm))));
        }

        ctx.progress(0.7, "setDaemon after start, and inheritance");
        setDaemonRules(ctx, table);

        ctx.progress(0.75, "CPython: child interpreters");
        runProbe(ctx, grace, table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /** In this JVM: setDaemon on a started thread, and the flag a daemon thread's children get. */
    private static void setDaemonRules(RunContext ctx, Table.Builder table) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        Thread started = Thread.ofPlatform().name("started-non-daemon").start(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        String refused;
        try {
            started.setDaemon(true);
            refused = "no exception";
        } catch (IllegalThreadStateException e) {
            refused = "IllegalThreadStateException";
        } finally {
            release.countDown();
            started.join();
        }
        AtomicReference<Boolean> childIsDaemon = new AtomicReference<>();
        Thread parent = Thread.ofPlatform().daemon(true).name("daemon-parent").start(
                () -> childIsDaemon.set(new Thread(() -> { }).isDaemon())); // created, never started
        parent.join();
        boolean holds = refused.equals("IllegalThreadStateException") && Boolean.TRUE.equals(childIsDaemon.get());
        table.row("JVM (this process)", "setDaemon(true) after start()", "", "", "",
                refused + "; new Thread() inside a daemon thread: isDaemon()=" + childIsDaemon.get());
        ctx.claim(SET_DAEMON_BEFORE_START, Verdict.check(holds, String.format(
                "setDaemon(true) on a started thread: %s; a Thread created inside a daemon thread: isDaemon() = %s",
                refused, childIsDaemon.get())));
    }

    private static void runProbe(RunContext ctx, int grace, Table.Builder table) throws InterruptedException {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("daemon_threads.py", List.of(), Duration.ofSeconds(120),
                "--grace-ms", Integer.toString(grace));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing ->
                    missing.skip(ctx, PY_NON_DAEMON_KEEPS, PY_DAEMON_KILLED, PY_DAEMON_FLAG);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String version = "CPython " + ran.interpreter().version();
                JsonNode nd = json.path("non_daemon");
                List<String> ndMarkers = strings(nd.path("markers"));
                boolean ndAlive = nd.path("alive_after_grace").asBoolean();
                boolean ndOrder = indexOf(ndMarkers, "worker finally") >= 0
                        && indexOf(ndMarkers, "worker finally") < indexOf(ndMarkers, "atexit");
                table.row(version, "threading.Thread (non-daemon)", ndAlive ? "yes, " + grace
                                + " ms later (then released)" : "NO", ndMarkers.contains("worker finally") ? "yes" : "no",
                        ms(nd.path("exit_after_main_done_s").asDouble()) + " (" + ms(nd.path("exit_after_release_s")
                                .asDouble()) + " after the release)", String.join(" → ", ndMarkers));
                ctx.claim(PY_NON_DAEMON_KEEPS, Verdict.check(ndAlive && ndOrder && nd.path("returncode").asInt() == 0,
                        String.format("%s: child interpreter still running %d ms after its main thread ended: %s;"
                                        + " after the release it exited with status %d; markers: %s", version, grace,
                                ndAlive, nd.path("returncode").asInt(), String.join(" → ", ndMarkers))));

                JsonNode dm = json.path("daemon");
                List<String> dMarkers = strings(dm.path("markers"));
                boolean killed = dm.path("returncode").asInt() == 0 && dMarkers.contains("daemon started daemon=True")
                        && !dMarkers.contains("daemon finally") && dMarkers.contains("atexit");
                table.row(version, "threading.Thread(daemon=True)", "no", dMarkers.contains("daemon finally") ? "yes"
                        : "no", ms(dm.path("exit_after_main_done_s").asDouble()), String.join(" → ", dMarkers));
                ctx.claim(PY_DAEMON_KILLED, Verdict.check(killed, String.format(
                        "%s: with no input, the child interpreter exited with status %d %.0f ms after main done;"
                                + " markers: %s", version, dm.path("returncode").asInt(),
                        dm.path("exit_after_main_done_s").asDouble() * 1e3, String.join(" → ", dMarkers))));

                JsonNode flag = json.path("flag");
                boolean flagHolds = flag.path("argument_sets_daemon").asBoolean()
                        && flag.path("attribute_sets_daemon").asBoolean()
                        && flag.path("started_refuses").asText().equals("RuntimeError")
                        && flag.path("inherited_from_daemon_creator").asBoolean()
                        && !flag.path("main_thread_daemon").asBoolean()
                        && flag.path("set_daemon_warning").asText().equals("DeprecationWarning");
                String flags = String.format("Thread(daemon=True).daemon=%s; t.daemon = True before start → %s;"
                                + " on a started thread: %s (%s); Thread() created in a daemon thread: daemon=%s;"
                                + " main thread daemon=%s; setDaemon(True): %s",
                        flag.path("argument_sets_daemon").asBoolean(), flag.path("attribute_sets_daemon").asBoolean(),
                        flag.path("started_refuses").asText(), flag.path("started_message").asText(),
                        flag.path("inherited_from_daemon_creator").asBoolean(),
                        flag.path("main_thread_daemon").asBoolean(), flag.path("set_daemon_warning").asText());
                table.row(version, "setting the daemon flag", "", "", "", flags);
                ctx.claim(PY_DAEMON_FLAG, Verdict.check(flagHolds, version + ": " + flags));
            }
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int indexOf(List<String> markers, String marker) {
        return markers.indexOf(marker);
    }

    private static String ms(long nanos) {
        return String.format("%.0f", nanos / 1e6);
    }

    private static String ms(double seconds) {
        return String.format("%.0f", seconds * 1e3);
    }

    /**
     * One child JVM: its markers (stdout lines) arrive on a reader thread with their times; the experiment waits
     * for markers, writes the release line, and waits for the exit. Closing destroys it if it is still running.
     */
    private static final class Child implements AutoCloseable {
        private final Process process;
        private final LinkedBlockingQueue<Marker> arrivals = new LinkedBlockingQueue<>();
        private final List<String> seen = new ArrayList<>();
        private final Thread reader;
        /** When the process exited, stamped by the JDK's process reaper as it happens, not when we ask. */
        private final java.util.concurrent.CompletableFuture<Long> exitedAt;
        private long exitNanos;

        private record Marker(String text, long nanos) {
        }

        private Child(Process process) {
            this.process = process;
            this.reader = Thread.ofVirtual().name("child-" + process.pid() + "-stdout").start(this::readAll);
            this.exitedAt = process.onExit().thenApply(p -> System.nanoTime());
        }

        static Child start(RunContext ctx, JvmLauncher launcher, String mode) throws IOException {
            return new Child(ctx.children().track(launcher.start(DaemonThreadsChild.class, mode)));
        }

        private void readAll() {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    arrivals.add(new Marker(line.strip(), System.nanoTime()));
                }
            } catch (IOException e) {
                // the process was destroyed: no more markers
            }
        }

        /** Waits for {@code marker} and returns when it arrived (nanoTime). */
        long await(String marker) throws InterruptedException {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (true) {
                Marker m = arrivals.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new IllegalStateException("child JVM " + process.pid() + " did not print '" + marker
                            + "' within " + PATIENCE.toSeconds() + " s; it printed " + seen);
                }
                seen.add(m.text);
                if (m.text.equals(marker)) {
                    return m.nanos;
                }
            }
        }

        void release() throws IOException {
            OutputStream in = process.getOutputStream();
            in.write('\n');
            in.flush();
        }

        /** Waits for the exit, then for the last markers; returns the exit status. */
        int awaitExit() throws InterruptedException {
            if (!process.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("child JVM " + process.pid() + " did not exit within "
                        + PATIENCE.toSeconds() + " s");
            }
            try {
                exitNanos = exitedAt.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                exitNanos = System.nanoTime();
            }
            reader.join(PATIENCE);
            for (Marker m; (m = arrivals.poll()) != null; ) {
                seen.add(m.text);
            }
            return process.exitValue();
        }

        List<String> markers() {
            return List.copyOf(seen);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
            reader.join(Duration.ofSeconds(5));
        }
    }

    /**
     * The child JVM's main: {@code args[0]} names the case. Prints one marker per line and flushes each, so the
     * parent sees them as they happen.
     */
    public static final class DaemonThreadsChild {
        static final String NON_DAEMON = "non-daemon";
        static final String DAEMON = "daemon";
        static final String VIRTUAL = "virtual";

        private static final PrintStream OUT = System.out;

        private DaemonThreadsChild() {
        }

        public static void main(String[] args) throws Exception {
            ParentWatch.exitWithParent();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> say("shutdown hook")));
            switch (args[0]) {
                case NON_DAEMON -> nonDaemon();
                case DAEMON -> daemon();
                case VIRTUAL -> virtual();
                default -> throw new IllegalArgumentException("unknown case " + args[0]);
            }
            say("main done");
        }

        private static void nonDaemon() throws InterruptedException {
            Thread main = Thread.currentThread();
            CountDownLatch started = new CountDownLatch(1);
            Thread.ofPlatform().daemon(false).name("worker").start(() -> {
                try {
                    say("worker started isDaemon=" + Thread.currentThread().isDaemon());
                    started.countDown();
                    main.join(); // returns once main has really returned
                    say("main ended");
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                    say("worker released");
                } catch (InterruptedException | IOException e) {
                    say("worker failed: " + e);
                } finally {
                    say("worker finally");
                }
            });
            started.await();
        }

        private static void daemon() throws InterruptedException {
            CountDownLatch started = new CountDownLatch(1);
            Thread worker = new Thread(() -> {
                try {
                    say("daemon started isDaemon=" + Thread.currentThread().isDaemon());
                    started.countDown();
                    new CountDownLatch(1).await(); // nobody ever opens it
                } catch (InterruptedException e) {
                    say("daemon interrupted");
                } finally {
                    say("daemon finally");
                }
            }, "daemon-worker");
            worker.setDaemon(true); // before start(), or IllegalThreadStateException
            worker.start();
            started.await();
        }

        private static void virtual() throws InterruptedException {
            try {
                Thread.ofVirtual().unstarted(() -> { }).setDaemon(false);
                say("setDaemon(false) accepted");
            } catch (IllegalArgumentException e) {
                say("setDaemon(false) refused: IllegalArgumentException");
            }
            CountDownLatch started = new CountDownLatch(1);
            Thread.ofVirtual().name("virtual-worker").start(() -> {
                try {
                    say("virtual started isDaemon=" + Thread.currentThread().isDaemon());
                    started.countDown();
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    say("virtual interrupted");
                } finally {
                    say("virtual finally");
                }
            });
            started.await();
        }

        private static void say(String marker) {
            synchronized (OUT) {
                OUT.println(marker);
                OUT.flush();
            }
        }
    }
}
