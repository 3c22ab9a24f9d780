package dev.conclab.lab.experiments.debugging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.diagnostics.doctor.AttachSocket;
import dev.conclab.toolkit.diagnostics.doctor.Diagnosis;
import dev.conclab.toolkit.diagnostics.doctor.Doctor;
import dev.conclab.toolkit.diagnostics.doctor.Finding;
import dev.conclab.toolkit.diagnostics.doctor.SickJvm;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A deadlock in another JVM, found from outside by {@code conclab doctor}; the same workers fixed; and the CPython
 * tools on the same deadlock.
 *
 * <p>BASELINE: a healthy child JVM ({@code SickJvm healthy}), which the doctor must leave without a finding.
 * <ol>
 *   <li><b>Broken — opposite orders.</b> A child JVM ({@link DoctorDeadlockChild} {@code opposite}) runs two workers,
 *       {@code transfer-a-to-b} and {@code transfer-b-to-a}, that take the ReentrantLocks of accounts A and B in
 *       opposite orders. A latch lets them ask for their second lock only once both hold their first, so the cycle
 *       forms on every run; the child prints its ready line once both locks have a queued thread. The same with
 *       {@code synchronized} ({@code SickJvm deadlock-monitors}). The lab then runs the toolkit's {@link Doctor}
 *       with one {@code jcmd PID Thread.print -l} dump (a cycle of untimed waits in one dump, taken at a safepoint,
 *       is already permanent; nearly all of the time is the start of the {@code jcmd} JVM) and times it from the
 *       ready line to the finding.</li>
 *   <li><b>Fixed — one global order</b> ({@code ordered}): the same workers both take A before B; the second queues
 *       for A holding nothing. <b>Fixed — tryLock</b> ({@code trylock}): the opposite orders, but the second lock is
 *       asked for with {@code tryLock(20 ms)}, and a worker that times out releases its first lock and backs off.
 *       Both finish; the doctor, with its default three dumps 250 ms apart (so that its stall check runs too), then
 *       examines the child and must report nothing, like the healthy baseline. These three are examined at the
 *       same time, untimed.</li>
 * </ol>
 * CPython (probe {@code deadlock_py.py}), the same forced deadlock with two {@code threading.Lock}s and a
 * {@code Barrier} (daemon threads, so the probe still exits): found by {@code faulthandler.dump_traceback_later} and
 * {@code faulthandler.register(SIGUSR1)} (every thread's stack), by {@code sys._current_frames()} with
 * {@code threading.enumerate()} (who waits where, but not who holds what: a Lock has no owner), by a Lock wrapper
 * that records owners (the wait-for cycle Python does not build in), and in asyncio two tasks awaiting each
 * other's {@code asyncio.Lock} (the loop runs on; a timeout and {@code asyncio.all_tasks()} show it). {@code py-spy
 * dump} is used only if the executable is present (it is not packaged by Debian bookworm).
 *
 * <p>Every child JVM is tracked by {@code ctx.children()} and destroyed once examined (and exits by itself if the lab
 * dies: {@code ParentWatch}), and the attach socket the doctor made it create is deleted with it; the probe's
 * threads are daemon threads of a process that exits.
 *
 * <p>Run: {@code ./conclab run doctor-deadlock}. Expect each deadlock found in well under a second (mostly the start
 * of the {@code jcmd} JVM), the cycle with both threads, both locks and the worker's line,
 * no finding in the fixed and healthy children, and in CPython both threads at their {@code acquire()} line.
 */
public final class DoctorDeadlock implements Experiment {

    static final ClaimSpec DOCTOR_FINDS = new ClaimSpec("doctor-finds-deadlock",
            "Broken: two workers in a child JVM that take two locks in opposite orders, each asking for its second"
                    + " lock once both hold their first, deadlock on every run, and conclab's doctor, attaching from"
                    + " outside, reports the deadlock from one thread dump within 2 s of the child's ready line, with"
                    + " ReentrantLocks and with synchronized alike.");
    static final ClaimSpec CYCLE_SHOWN = new ClaimSpec("cycle-shown",
            "The doctor's report shows the whole cycle: for each of the two threads the lock it waits for, the"
                    + " stack line in the worker's code where it waits, and the other thread as that lock's holder.");
    static final ClaimSpec FIXED_NO_DEADLOCK = new ClaimSpec("fixed-no-deadlock",
            "Fixed: the same two workers taking the locks in one global order, or asking for the second with"
                    + " tryLock and a timeout and backing off, finish, and the doctor finds no deadlock in that JVM.");
    static final ClaimSpec NO_FALSE_ALARM = new ClaimSpec("no-false-alarm",
            "A healthy JVM, and the fixed children once their workers finished, get no finding at all from the"
                    + " doctor with its default three samples: no false alarm.");
    static final ClaimSpec PY_FAULTHANDLER = new ClaimSpec("py-faulthandler",
            "In CPython, faulthandler.dump_traceback_later(timeout, exit=False) writes every thread's stack once the"
                    + " timeout passes, and faulthandler.register(signal.SIGUSR1) does so on demand; in both dumps each"
                    + " deadlocked thread's innermost frame is the line of its second acquire().");
    static final ClaimSpec PY_CURRENT_FRAMES = new ClaimSpec("py-current-frames",
            "sys._current_frames() joined with threading.enumerate() shows each deadlocked thread by name at its"
                    + " second acquire() in two samples in a row, but not who holds the lock it waits for: a"
                    + " threading.Lock records no owner, and locked() only says that someone holds it.");
    static final ClaimSpec PY_OWNER_GRAPH = new ClaimSpec("py-owner-graph",
            "A Lock wrapper that records its owner and what each thread waits for turns the same deadlock into a"
                    + " wait-for cycle, each thread waiting for a lock the other holds: the graph the JVM builds in.");
    static final ClaimSpec PY_ASYNCIO = new ClaimSpec("py-asyncio-deadlock",
            "Two asyncio tasks, each awaiting an asyncio.Lock the other holds, never finish while the event loop"
                    + " keeps running; only a timeout reveals it, and asyncio.all_tasks() with Task.get_stack() shows"
                    + " both still pending at the line of their second acquire.");

    /** The bound on detection, from the child's ready line to the doctor's finding. */
    static final Duration FIND_WITHIN = Duration.ofSeconds(2);
    /** One dump, for the timed detection: the workers' waits are untimed, so a cycle in one dump is permanent. */
    private static final Doctor FINDER = Doctor.defaults().sampling(1, Duration.ZERO);
    /** The doctor's defaults (three dumps 250 ms apart, every analysis) for the JVMs that must raise no alarm. */
    private static final Doctor CHECKER = Doctor.defaults();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    /** The workers' names, in DoctorDeadlockChild and in SickJvm alike. */
    private static final Set<String> WORKERS = Set.of("transfer-a-to-b", "transfer-b-to-a");

    @Override
    public String id() {
        return "doctor-deadlock";
    }

    @Override
    public String title() {
        return "A deadlock found from outside by conclab doctor, fixed, and found in CPython";
    }

    @Override
    public String description() {
        return "Forces a lock-ordering deadlock in child JVMs (ReentrantLock and synchronized), finds it from"
                + " outside with the doctor (jcmd thread dumps) within 2 s with the whole cycle, checks the fixed"
                + " workers (global order, tryLock) and a healthy JVM raise no alarm; beside CPython's faulthandler,"
                + " sys._current_frames, an owner-recording lock, and an asyncio deadlock.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("rounds", "deadlocked child JVMs of each lock kind", 1, 20, 3, 1),
                new Param.IntParam("py-dump-after-ms", "faulthandler.dump_traceback_later's timeout in CPython", 50,
                        5_000, 300, 300));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(DOCTOR_FINDS, CYCLE_SHOWN, FIXED_NO_DEADLOCK, NO_FALSE_ALARM, PY_FAULTHANDLER,
                PY_CURRENT_FRAMES, PY_OWNER_GRAPH, PY_ASYNCIO);
    }

    /** A child JVM of one kind: its main class and mode, and where a deadlocked worker in it waits. */
    enum Kind {
        LOCKS("Broken: ReentrantLocks in opposite orders", DoctorDeadlockChild.class, "opposite"),
        MONITORS("Broken: synchronized in opposite orders", SickJvm.class, "deadlock-monitors"),
        ORDERED("Fixed: one global order", DoctorDeadlockChild.class, "ordered"),
        TRYLOCK("Fixed: tryLock(20 ms) + back-off", DoctorDeadlockChild.class, "trylock"),
        HEALTHY("BASELINE: a healthy JVM", SickJvm.class, "healthy");

        final String label;
        final Class<?> main;
        final String mode;

        Kind(String label, Class<?> main, String mode) {
            this.label = label;
            this.main = main;
            this.mode = mode;
        }

        boolean deadlocks() {
            return this == LOCKS || this == MONITORS;
        }

        /** Text of the stack line where a deadlocked worker waits: in the worker's own source file. */
        String waitFrame() {
            return this == LOCKS ? DoctorDeadlockChild.class.getSimpleName() + ".transfer("
                    : "(" + main.getSimpleName() + ".java:";
        }
    }

    /** One child JVM examined by the doctor. */
    record Examined(Kind kind, List<String> childSaid, Diagnosis diagnosis, long readyToFindingMillis) {
        List<Finding.Deadlock> deadlocks() {
            return diagnosis.findings(Finding.Deadlock.class);
        }

        boolean finished() {
            return childSaid.stream().anyMatch(l -> l.startsWith("RESULT finished=true"));
        }

        String childReport() {
            return childSaid.stream().filter(l -> l.startsWith("RESULT ")).findFirst().map(l -> l.substring(7))
                    .orElse(kind.deadlocks() ? "ready: both workers queued for the other's"
                            + " lock" : "ready");
        }
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int rounds = ctx.intParam("rounds");
        Table.Builder table = Table.builder("conclab doctor on child JVMs", "child", "the child says", "doctor's"
                + " dumps", "doctor's findings", "ready line → finding (ms)", "doctor's round (ms)");
        List<Examined> broken = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (Kind kind : List.of(Kind.LOCKS, Kind.MONITORS)) {
                ctx.checkCancelled();
                ctx.progress(0.05 + 0.4 * broken.size() / (2.0 * rounds), kind.label + ", round " + (r + 1));
                broken.add(examine(start(ctx, kind), FINDER));
            }
        }
        ctx.progress(0.5, "fixed and healthy children");
        // Started and examined together, so their start-ups and dumps overlap; no claim times these.
        List<Future<Examined>> pending = new ArrayList<>();
        try (ExecutorService examiners = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Kind kind : List.of(Kind.ORDERED, Kind.TRYLOCK, Kind.HEALTHY)) {
                Started s = start(ctx, kind);
                pending.add(examiners.submit(() -> examine(s, CHECKER)));
            }
        }
        List<Examined> calm = new ArrayList<>();
        for (Future<Examined> f : pending) {
            try {
                calm.add(f.get());
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
        for (Examined e : broken) {
            table.row(row(e));
        }
        for (Examined e : calm) {
            table.row(row(e));
        }
        ctx.table(table.build());
        cycleTable(ctx, broken);
        judgeJava(ctx, broken, calm);
        ctx.progress(0.7, "CPython: deadlock_py.py");
        python(ctx);
        ctx.progress(1, "done");
    }

    // ---- the child JVMs ---------------------------------------------------------------------------------------

    /** A started child and the lines it prints up to and including its ready line, with the time that line came. */
    private record Started(Kind kind, Process process, CompletableFuture<Ready> ready) {
    }

    private record Ready(List<String> lines, long atNanos) {
    }

    private static Started start(RunContext ctx, Kind kind) throws IOException {
        Process p = ctx.children().track(JvmLauncher.ofCurrentJvm().withOptions("-Xmx64m")
                .start(kind.main, kind.mode));
        CompletableFuture<Ready> ready = new CompletableFuture<>();
        // readLine cannot time out: read on a virtual thread; destroying the child closes the pipe and ends it.
        Thread.ofVirtual().name("doctor-deadlock-ready-" + kind.mode).start(() -> {
            List<String> lines = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                    if (line.equals(SickJvm.READY)) {
                        ready.complete(new Ready(List.copyOf(lines), System.nanoTime()));
                        return;
                    }
                }
                ready.completeExceptionally(new IOException("exited before it was ready: " + lines));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        });
        return new Started(kind, p, ready);
    }

    /** Waits for the child's ready line, runs {@code doctor} on it, then destroys it. */
    private static Examined examine(Started s, Doctor doctor) throws Exception {
        try {
            Ready ready;
            try {
                ready = s.ready().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("child JVM " + s.kind().mode + " did not get ready: " + e);
            }
            Diagnosis d = doctor.diagnose(s.process().pid());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ready.atNanos());
            return new Examined(s.kind(), ready.lines(), d, ms);
        } finally {
            s.process().destroyForcibly();
            s.process().waitFor(10, TimeUnit.SECONDS);
            AttachSocket.deleteAfterExit(s.process().toHandle()); // the doctor attached; a killed JVM leaves its socket
        }
    }

    private static Object[] row(Examined e) {
        String findings = e.diagnosis().healthy() ? "none" : String.join("; ", e.diagnosis().findings().stream()
                .map(f -> f.getClass().getSimpleName() + (f instanceof Finding.Deadlock d ? " of "
                        + d.cycle().size() + " threads" : "")).toList());
        // Only the deadlocked children are examined as soon as they are ready; the others wait their turn.
        return new Object[]{e.kind().label, e.childReport(), e.diagnosis().samples(), findings,
                e.kind().deadlocks() ? e.readyToFindingMillis() : "—", e.diagnosis().elapsed().toMillis()};
    }

    private static void cycleTable(RunContext ctx, List<Examined> broken) {
        Table.Builder t = Table.builder("The cycle in the doctor's report (first deadlocked child of each kind)",
                "child", "thread", "waits for", "at", "held by");
        for (Kind kind : List.of(Kind.LOCKS, Kind.MONITORS)) {
            broken.stream().filter(e -> e.kind() == kind && !e.deadlocks().isEmpty()).findFirst()
                    .ifPresent(e -> e.deadlocks().getFirst().cycle().forEach(edge -> t.row(kind.label, edge.thread(),
                            edge.waitsFor().toString(), edge.waitsAt(), edge.heldBy())));
        }
        ctx.table(t.build());
    }

    // ---- judging ----------------------------------------------------------------------------------------------

    private static void judgeJava(RunContext ctx, List<Examined> broken, List<Examined> calm) {
        long found = broken.stream().filter(e -> e.deadlocks().size() == 1).count();
        long slowest = broken.stream().mapToLong(Examined::readyToFindingMillis).max().orElse(Long.MAX_VALUE);
        long fastest = broken.stream().mapToLong(Examined::readyToFindingMillis).min().orElse(Long.MAX_VALUE);
        // Nearly all of the time is the start of jcmd's JVM: on a machine busy with other processes it measures the
        // neighbours, so a failure there is skipped, not judged.
        ctx.requireCores(DOCTOR_FINDS, 1);
        ctx.claim(DOCTOR_FINDS, Verdict.check(found == broken.size() && slowest <= FIND_WITHIN.toMillis(),
                String.format("the doctor reported one deadlock in %d of %d deadlocked children (ReentrantLock and"
                                + " synchronized), %d–%d ms after the ready line (needs all, every one ≤ %d ms)",
                        found, broken.size(), fastest, slowest, FIND_WITHIN.toMillis())));

        long whole = broken.stream().filter(DoctorDeadlock::wholeCycle).count();
        String example = broken.stream().filter(e -> !e.deadlocks().isEmpty()).findFirst()
                .map(e -> e.deadlocks().getFirst().summary()).orElse("no cycle reported");
        ctx.claim(CYCLE_SHOWN, Verdict.check(whole == broken.size(), String.format(
                "the cycle named both workers, two distinct locks, a wait line in the worker's code and the other"
                        + " worker as holder in %d of %d reports (needs all); e.g. %s", whole, broken.size(),
                example)));

        List<Examined> fixed = calm.stream().filter(e -> e.kind() != Kind.HEALTHY).toList();
        long fixedOk = fixed.stream().filter(e -> e.finished() && e.deadlocks().isEmpty()).count();
        ctx.claim(FIXED_NO_DEADLOCK, Verdict.check(fixedOk == fixed.size() && !fixed.isEmpty(), String.format(
                "%d of %d fixed children finished with no deadlock found (%s) (needs all)", fixedOk, fixed.size(),
                String.join("; ", fixed.stream().map(e -> e.kind().label + ": " + e.childReport() + ", "
                        + e.deadlocks().size() + " deadlocks").toList()))));

        long quiet = calm.stream().filter(e -> e.diagnosis().healthy()).count();
        ctx.claim(NO_FALSE_ALARM, Verdict.check(quiet == calm.size() && !calm.isEmpty(), String.format(
                "%d of %d calm JVMs (healthy, fixed after finishing) got no finding from %d dumps each (needs all)%s",
                quiet, calm.size(), CHECKER.samples(), calm.stream().filter(e -> !e.diagnosis().healthy())
                        .map(e -> "; " + e.kind().label + ": " + e.diagnosis().findings().getFirst().summary())
                        .findFirst().orElse(""))));
    }

    /** Both workers, each waiting at a line of the worker's code for a lock the other holds, on two locks. */
    private static boolean wholeCycle(Examined e) {
        if (e.deadlocks().size() != 1) {
            return false;
        }
        List<Finding.CycleEdge> cycle = e.deadlocks().getFirst().cycle();
        Set<String> names = WORKERS;
        return cycle.size() == 2
                && cycle.stream().map(Finding.CycleEdge::thread).distinct().filter(names::contains).count() == 2
                && cycle.stream().map(Finding.CycleEdge::waitsFor).distinct().count() == 2
                && cycle.stream().allMatch(edge -> edge.waitsAt().contains(e.kind().waitFrame())
                && names.contains(edge.heldBy()) && !edge.heldBy().equals(edge.thread()));
    }

    // ---- CPython ------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("deadlock_py.py", List.of(), Duration.ofSeconds(60),
                "--dump-after-ms", String.valueOf(ctx.intParam("py-dump-after-ms")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_FAULTHANDLER, PY_CURRENT_FRAMES, PY_OWNER_GRAPH, PY_ASYNCIO);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> pythonRan(ctx, ran);
        }
    }

    private static void pythonRan(RunContext ctx, ProbeOutcome.Ran ran) {
        JsonNode json = ran.json();
        Table.Builder t = Table.builder("CPython " + ran.interpreter().version() + ": the same deadlock with two"
                + " threading.Locks", "tool", "what it shows", "deadlock → report (ms)", "can it say who holds"
                + " what?");

        JsonNode fh = json.path("faulthandler");
        JsonNode sig = json.path("sigusr1");
        boolean fhAt = allAtAcquire(fh.path("workers"));
        boolean sigAt = allAtAcquire(sig.path("workers"));
        t.row("faulthandler.dump_traceback_later(" + fh.path("timeout_ms").asInt() + " ms)", "dumped "
                        + fh.path("threads_in_dump").asInt() + " threads; workers' innermost frames " + tops(fh),
                ms(fh), "no: stacks only");
        t.row("faulthandler.register(SIGUSR1) + kill -USR1", "workers' innermost frames " + tops(sig), ms(sig),
                "no: stacks only");
        ctx.claim(PY_FAULTHANDLER, Verdict.check(fh.path("dumped").asBoolean() && fhAt && sig.path("dumped")
                .asBoolean() && sigAt, String.format("timeout dump written: %s, both workers at acquire line %d: %s"
                        + " (%s, %s ms after the deadlock formed); SIGUSR1 dump: %s, both at it: %s (needs all true)",
                fh.path("dumped").asBoolean(), fh.path("acquire_line").asInt(), fhAt, tops(fh), ms(fh),
                sig.path("dumped").asBoolean(), sigAt)));

        JsonNode cf = json.path("current_frames");
        int line = cf.path("acquire_line").asInt();
        List<String> where = new ArrayList<>();
        boolean allAt = cf.path("where").size() == 2;
        for (var it = cf.path("where").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            where.add(e.getKey() + " at " + e.getValue().path("function").asText() + ":" + e.getValue().path("line")
                    .asInt());
            allAt &= e.getValue().path("line").asInt() == line;
        }
        boolean locked = cf.path("locks_locked").size() == 2 && cf.path("locks_locked").get(0).asBoolean()
                && cf.path("locks_locked").get(1).asBoolean();
        boolean noOwner = !cf.path("lock_repr").asText().contains("owner");
        t.row("sys._current_frames() + threading.enumerate()", String.join(", ", where), ms(cf),
                "no: Lock.locked() = " + locked + ", repr " + cf.path("lock_repr").asText() + " (an RLock's repr does"
                        + " name its owner's id: " + cf.path("rlock_repr_names_owner").asBoolean() + ")");
        ctx.claim(PY_CURRENT_FRAMES, Verdict.check(cf.path("stuck_in_two_samples").asBoolean() && allAt && locked
                && noOwner, String.format("both workers at acquire line %d in two samples: %s (%s); both locks"
                        + " locked(): %s; the Lock's repr names no owner: %s (needs all true)", line,
                cf.path("stuck_in_two_samples").asBoolean(), String.join(", ", where), locked, noOwner)));

        JsonNode og = json.path("owner_graph");
        List<String> ring = new ArrayList<>();
        boolean ringOk = og.path("cycle").size() == 2;
        for (JsonNode edge : og.path("cycle")) {
            ring.add(edge.path("thread").asText() + " waits for " + edge.path("waits_for").asText() + ", held by "
                    + edge.path("held_by").asText());
            ringOk &= !edge.path("held_by").asText().equals(edge.path("thread").asText())
                    && !edge.path("held_by").isNull();
        }
        if (ringOk) {
            JsonNode c = og.path("cycle");
            ringOk = c.get(0).path("held_by").asText().equals(c.get(1).path("thread").asText())
                    && c.get(1).path("held_by").asText().equals(c.get(0).path("thread").asText())
                    && !c.get(0).path("waits_for").asText().equals(c.get(1).path("waits_for").asText());
        }
        t.row("a Lock wrapper recording owner and waiter", String.join("; ", ring), ms(og), "yes: it records it");
        ctx.claim(PY_OWNER_GRAPH, Verdict.check(ringOk, String.format("the wait-for graph held the ring [%s] in two"
                + " samples (needs two threads, each waiting for a different lock the other holds)",
                String.join("; ", ring))));

        JsonNode as = json.path("asyncio");
        List<String> tasks = new ArrayList<>();
        boolean pendingAt = as.path("tasks").size() == 2;
        String at = "async_transfer:" + as.path("acquire_line").asInt();
        for (JsonNode task : as.path("tasks")) {
            List<String> frames = new ArrayList<>();
            task.path("frames").forEach(f -> frames.add(f.asText()));
            tasks.add(task.path("name").asText() + (task.path("done").asBoolean() ? " done " : " pending ") + frames);
            pendingAt &= !task.path("done").asBoolean() && frames.equals(List.of(at));
        }
        int ticks = as.path("loop_ticks_while_stuck").asInt();
        t.row("asyncio: timeout + all_tasks() + Task.get_stack()", String.join("; ", tasks) + "; the loop ran "
                + ticks + " wait rounds meanwhile", ms(as), "no: asyncio.Lock has no owner either");
        ctx.claim(PY_ASYNCIO, Verdict.check(as.path("timed_out").asBoolean() && ticks >= 2 && pendingAt,
                String.format("timed out: %s; the loop kept running (%d rounds of asyncio.wait while stuck); tasks"
                        + " %s (needs true, ≥ 2, both pending at %s)", as.path("timed_out").asBoolean(), ticks,
                        tasks, at)));

        JsonNode spy = json.path("py_spy");
        t.row("py-spy dump", spy.path("available").asBoolean() ? "present at " + spy.path("path").asText()
                        + " (not run by this experiment)" : "SKIPPED: " + spy.path("reason").asText(), "—",
                "no: stacks only");
        ctx.table(t.build());
    }

    private static boolean allAtAcquire(JsonNode workers) {
        boolean all = workers.size() == 2;
        for (JsonNode w : workers) {
            all &= w.path("at_acquire").asBoolean();
        }
        return all;
    }

    private static String tops(JsonNode caseNode) {
        List<String> tops = new ArrayList<>();
        caseNode.path("workers").forEach(w -> tops.add(w.path("top").asText()));
        return String.join(", ", tops);
    }

    private static String ms(JsonNode caseNode) {
        return String.format("%.1f", caseNode.path("detect_ms").asDouble());
    }
}
