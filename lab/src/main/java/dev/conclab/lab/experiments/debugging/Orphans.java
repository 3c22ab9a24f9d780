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
import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Orphaned child processes made on purpose, found, and prevented.
 *
 * <p>Each case starts a "middle" process (a shell) that starts a grandchild and prints its pid; the lab then kills
 * the middle with SIGKILL ({@link Process#destroyForcibly()}), as {@code kill -9} or the OOM killer would. The
 * grandchild is never the lab's own child, so nothing the lab does for its children reaches it.
 * <ol>
 *   <li><b>Broken — nobody watches.</b> The grandchild ({@code sleep} with an argument unique to the run) lives on.
 *       The kernel re-parents it to pid 1 or the nearest subreaper, so the middle's {@code descendants()} no longer
 *       lists it; it is found by scanning {@link ProcessHandle#allProcesses()} for the marker, and killed.</li>
 *   <li><b>Prevented — parent-death detection.</b> The grandchild is a JVM that calls
 *       {@link ParentWatch#exitWithParent()} on its actual parent (the shell): it halts soon after the shell is
 *       killed.</li>
 *   <li><b>Prevented — a process group.</b> The middle is started with {@code setsid}, so it leads a new process
 *       group that the grandchild joins; the lab kills the group ({@code kill -KILL -- -PGID}), not the pid: nothing is
 *       left. (The JDK has no process-group API; {@code ProcessHandle.descendants()} walked <i>before</i> the kill,
 *       as the lab's own {@code ChildProcesses} does, is the portable alternative when you do the killing.)</li>
 * </ol>
 * CPython (probe {@code orphans.py}) does the same with {@code subprocess}: the orphan found in {@code /proc} with
 * its new parent, {@code prctl(PR_SET_PDEATHSIG, SIGKILL)} through {@code ctypes} in {@code preexec_fn}, and
 * {@code start_new_session=True} with {@code os.killpg}.
 *
 * <p>Every process started is tracked by {@code ctx.children()} or killed by pid before {@code run} returns (an
 * orphan the scan finds is destroyed; a grandchild that should have died is destroyed if it did not). Linux only:
 * elsewhere the claims are skipped.
 *
 * <p>Run: {@code ./conclab run orphans}. Expect one orphan found with a new parent, the watched JVM gone within about
 * a second, and nothing left after the group kill.
 */
public final class Orphans implements Experiment {

    static final ClaimSpec ORPHAN_FOUND = new ClaimSpec("orphan-found",
            "Broken: a grandchild whose parent is killed with SIGKILL keeps running, re-parented away from the dead"
                    + " parent so that the parent's descendants() no longer shows it; scanning all processes for its"
                    + " command line finds it, and it is killed.");
    static final ClaimSpec PARENT_WATCH = new ClaimSpec("parent-watch-exits",
            "A grandchild JVM that watches its parent with ParentWatch exits within 5 s of the parent being killed"
                    + " with SIGKILL.");
    static final ClaimSpec PROCESS_GROUP = new ClaimSpec("process-group-kill",
            "Killing the process group of a parent started with setsid ends the grandchild with it: no orphan"
                    + " is left.");
    static final ClaimSpec PY_ORPHANS = new ClaimSpec("py-orphans",
            "In Python the same orphan is found in /proc with a new parent, while prctl(PR_SET_PDEATHSIG, SIGKILL)"
                    + " set through ctypes, or start_new_session=True with os.killpg, leaves no orphan behind.");

    /** The bound on how soon a watched grandchild must exit after its parent's death. */
    static final Duration WATCH_WITHIN = Duration.ofSeconds(5);
    /** How long a process that should stay does get to prove it stays. */
    private static final Duration STAYS_FOR = Duration.ofMillis(200);
    private static final long GIVE_UP_SECONDS = 20;

    @Override
    public String id() {
        return "orphans";
    }

    @Override
    public String title() {
        return "Orphaned child processes: made, found and prevented";
    }

    @Override
    public String description() {
        return "Kills a parent with SIGKILL so that its child is orphaned, finds the orphan re-parented by scanning"
                + " all processes, and prevents orphans with ParentWatch and process groups; beside Python's"
                + " /proc scan, prctl(PR_SET_PDEATHSIG) through ctypes and os.killpg.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("child-seconds", "how long a grandchild lives if nothing ends it", 10,
                600, 60, 30));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(ORPHAN_FOUND, PARENT_WATCH, PROCESS_GROUP, PY_ORPHANS);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            for (ClaimSpec c : claims()) {
                ctx.claim(c, Verdict.skipped("needs Linux (process groups, /proc, prctl)"));
            }
            ctx.table(Table.builder("Orphans", "case", "result").row("all", "skipped: not Linux").build());
            return;
        }
        int seconds = ctx.intParam("child-seconds");
        // A sleep time unique to this run, so the scan cannot mistake another process for our orphan.
        String marker = seconds + "." + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        Table.Builder table = Table.builder("A parent killed with SIGKILL: what happens to its child",
                "runtime", "case", "child's parent before → after", "child after the kill", "found / cleaned up");
        ctx.progress(0.05, "broken: an orphan");
        broken(ctx, marker, table);
        ctx.progress(0.25, "ParentWatch");
        watched(ctx, seconds, table);
        ctx.progress(0.55, "process group");
        group(ctx, marker + "7", table);
        ctx.progress(0.7, "CPython: orphans.py");
        python(ctx, marker + "9", table);
        ctx.table(table.build());
        ctx.progress(1, "done");
    }

    /** The middle shell and its child's pid, read from the shell's first line. */
    private record Family(Process middle, ProcessHandle child, BufferedReader out) {
    }

    private static Family start(RunContext ctx, List<String> prefix, List<String> childCommand) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("sh", "-c", "\"$@\" & echo $!; wait", "sh"));
        command.addAll(childCommand);
        Process middle = ctx.children().start(new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT));
        BufferedReader out = new BufferedReader(new InputStreamReader(middle.getInputStream(),
                StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null) {
            throw new IllegalStateException("the middle shell printed no pid: " + command);
        }
        long pid = Long.parseLong(line.trim());
        ProcessHandle child = ProcessHandle.of(pid).orElseThrow(() ->
                new IllegalStateException("the grandchild " + pid + " is already gone"));
        return new Family(middle, child, out);
    }

    private static void killAndWait(Process middle) throws Exception {
        middle.destroyForcibly(); // SIGKILL
        if (!middle.waitFor(GIVE_UP_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the middle process survived SIGKILL");
        }
    }

    private static String parentOf(ProcessHandle p) {
        return p.parent().map(h -> String.valueOf(h.pid())).orElse("none");
    }

    // ---- 1. Broken: an orphan --------------------------------------------------------------------------------------

    private static void broken(RunContext ctx, String marker, Table.Builder table) throws Exception {
        Family f = start(ctx, List.of(), List.of("sleep", marker));
        String before = parentOf(f.child());
        boolean listedBefore = f.middle().descendants().anyMatch(d -> d.pid() == f.child().pid());
        killAndWait(f.middle());
        boolean stillAlive = !f.child().onExit().isDone()
                && !waitExit(f.child(), STAYS_FOR); // it must still be there after a while: it was not told
        Optional<ProcessHandle> newParent = f.child().parent();
        boolean listedAfter = f.middle().descendants().anyMatch(d -> d.pid() == f.child().pid());
        List<ProcessHandle> found = ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false))
                .filter(p -> p.parent().map(pp -> pp.pid() != f.middle().pid()).orElse(true))
                .toList();
        found.forEach(ProcessHandle::destroyForcibly);
        boolean cleaned = waitExit(f.child(), Duration.ofSeconds(GIVE_UP_SECONDS));
        String after = newParent.map(h -> h.pid() + (h.pid() == 1 ? " (init)" : " (a subreaper: "
                + h.info().command().orElse("?") + ")")).orElse("none");
        table.row("JVM", "Broken: sh → sleep; kill -9 sh", before + " (sh) → " + after,
                "alive: " + stillAlive + "; in sh's descendants(): " + listedBefore + " → " + listedAfter,
                "allProcesses() scan found " + found.stream().map(ProcessHandle::pid).toList() + "; killed: "
                        + cleaned);
        boolean holds = listedBefore && stillAlive && newParent.isPresent()
                && newParent.get().pid() != f.middle().pid() && !listedAfter
                && found.stream().anyMatch(p -> p.pid() == f.child().pid()) && found.size() == 1 && cleaned;
        ctx.claim(ORPHAN_FOUND, Verdict.check(holds, String.format(
                "before the kill the child's parent was %s (sh, listed in its descendants: %s); after it the child was"
                        + " alive: %s, its parent %s, listed: %s; the scan found %s, and killing it worked: %s"
                        + " (needs listed, alive, a new parent, not listed, exactly the child, killed)", before,
                listedBefore, stillAlive, after, listedAfter, found.stream().map(ProcessHandle::pid).toList(),
                cleaned)));
    }

    // ---- 2. ParentWatch ----------------------------------------------------------------------------------------------

    private static void watched(RunContext ctx, int seconds, Table.Builder table) throws Exception {
        // An empty conclab.parent: the child watches its actual parent (the shell), not the lab.
        List<String> java = JvmLauncher.ofCurrentJvm().withOptions("-D" + ParentWatch.PARENT_PROPERTY + "=",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1").command(OrphanWatchChild.class, String.valueOf(seconds));
        Family f = start(ctx, List.of(), java);
        try {
            String ready = f.out().readLine(); // the watch is installed
            String before = parentOf(f.child());
            long killedAt = System.nanoTime();
            killAndWait(f.middle());
            boolean exited = waitExit(f.child(), Duration.ofSeconds(GIVE_UP_SECONDS));
            double ms = (System.nanoTime() - killedAt) / 1e6;
            table.row("JVM", "ParentWatch: sh → java (watching sh); kill -9 sh", before + " (sh) → gone",
                    "exited " + (exited ? String.format("%.0f ms after the kill", ms) : "never"),
                    "nothing to find");
            ctx.claim(PARENT_WATCH, Verdict.check("ready".equals(ready) && exited
                    && ms <= WATCH_WITHIN.toMillis(), String.format(
                    "the grandchild JVM said %s, then exited %.0f ms after its parent was killed: %s (needs ready,"
                            + " exited within %d ms)", ready, ms, exited, WATCH_WITHIN.toMillis())));
        } finally {
            f.child().destroyForcibly();
        }
    }

    // ---- 3. process group --------------------------------------------------------------------------------------------

    private static void group(RunContext ctx, String marker, Table.Builder table) throws Exception {
        Family f = start(ctx, List.of("setsid"), List.of("sleep", marker));
        try {
            String before = parentOf(f.child());
            long pgid = f.middle().pid(); // setsid execs the shell: it leads the new group
            Process kill = ctx.children().start(new ProcessBuilder("kill", "-KILL", "--", "-" + pgid)
                    .redirectErrorStream(true));
            int status = kill.waitFor(GIVE_UP_SECONDS, TimeUnit.SECONDS) ? kill.exitValue() : -1;
            f.middle().waitFor(GIVE_UP_SECONDS, TimeUnit.SECONDS);
            boolean childGone = waitExit(f.child(), Duration.ofSeconds(GIVE_UP_SECONDS));
            long left = ProcessHandle.allProcesses()
                    .filter(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false)).count();
            table.row("JVM", "setsid sh → sleep; kill -KILL -- -PGID", before + " (sh) → gone",
                    "gone: " + childGone + " (kill exit status " + status + ")", left + " left");
            ctx.claim(PROCESS_GROUP, Verdict.check(status == 0 && !f.middle().isAlive() && childGone && left == 0,
                    String.format("kill -KILL -- -%d exited %d; the shell alive: %s, the grandchild gone: %s;"
                                    + " processes with the marker left: %d (needs 0, false, true, 0)", pgid, status,
                            f.middle().isAlive(), childGone, left)));
        } finally {
            f.child().destroyForcibly();
        }
    }

    // ---- CPython -------------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, String marker, Table.Builder table) throws Exception {
        ProbeOutcome outcome = PythonProbes.of(ctx).run("orphans.py", List.of(), Duration.ofSeconds(60), marker);
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> {
                missing.skip(ctx, PY_ORPHANS);
                ctx.note("CPython side skipped: " + missing.reason());
            }
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String py = "CPython " + ran.interpreter().version();
                JsonNode b = json.path("broken");
                JsonNode d = json.path("pdeathsig");
                JsonNode g = json.path("killpg");
                table.row(py, "Broken: python → sleep; middle.kill()", "middle → " + b.path("ppid_after").asText(),
                        "alive: " + !b.path("gone_after_kill").asBoolean(), "/proc scan found "
                                + b.path("orphans_found").toString() + "; killed: " + b.path("cleaned_up").asBoolean());
                table.row(py, "prctl(PR_SET_PDEATHSIG, SIGKILL) in preexec_fn", "middle → gone",
                        String.format("gone %.1f ms after the kill", d.path("gone_ms").asDouble()),
                        d.path("orphans_found").size() + " found");
                table.row(py, "start_new_session=True; os.killpg", "middle → gone",
                        String.format("gone %.1f ms after the kill", g.path("gone_ms").asDouble()),
                        g.path("orphans_found").size() + " found");
                boolean holds = b.path("parent_before_is_middle").asBoolean()
                        && !b.path("gone_after_kill").asBoolean(true) && b.path("orphans_found").size() == 1
                        && b.path("orphan_reparented_away").asBoolean() && b.path("cleaned_up").asBoolean()
                        && d.path("parent_before_is_middle").asBoolean() && d.path("gone_after_kill").asBoolean()
                        && d.path("orphans_found").isEmpty() && g.path("parent_before_is_middle").asBoolean()
                        && g.path("gone_after_kill").asBoolean() && g.path("orphans_found").isEmpty();
                ctx.claim(PY_ORPHANS, Verdict.check(holds, String.format(
                        "broken: alive after the kill %s, re-parented to %s, the scan found %s, killed: %s;"
                                + " PR_SET_PDEATHSIG: gone after %.1f ms, %d found; killpg: gone after %.1f ms,"
                                + " %d found (needs one orphan found and killed, then none); %s",
                        !b.path("gone_after_kill").asBoolean(), b.path("ppid_after").asText(),
                        b.path("orphans_found"), b.path("cleaned_up").asBoolean(), d.path("gone_ms").asDouble(),
                        d.path("orphans_found").size(), g.path("gone_ms").asDouble(), g.path("orphans_found").size(),
                        py)));
            }
        }
    }

    /** Whether {@code p} has exited within {@code timeout}. */
    private static boolean waitExit(ProcessHandle p, Duration timeout) throws InterruptedException {
        try {
            p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !p.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }
}
