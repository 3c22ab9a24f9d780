package dev.conclab.toolkit.diagnostics.doctor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The analyses the doctor runs over a series of thread dumps of one JVM. Pure functions of their arguments:
 * stateless and thread-safe.
 *
 * <ul>
 *   <li>{@link #deadlocks}: cycles in the wait-for graph (thread → lock it acquires → that lock's owner), built from
 *       the dump's "waiting to lock" / "parking to wait for" lines and the held monitors and ownable
 *       synchronizers; reported only when the same ring of threads is in every sample. Threads in a timed wait
 *       ({@code tryLock(timeout)}) are not edges: they give up by themselves.</li>
 *   <li>{@link #hotSpots}: a lock that {@code minWaiters} or more threads are trying to acquire in the last
 *       sample. Only locks a thread holds, or monitors threads are BLOCKED on, count: threads parked on a
 *       condition (idle pool workers, latch waiters) wait for a signal, not for a lock.</li>
 *   <li>{@link #stalls}: a thread RUNNABLE with the same top frames in every sample (at least two). A thread whose
 *       top frame is native ({@code accept}, {@code epollWait}, a socket read) is waiting in the OS, which is
 *       normal for I/O threads, and is not reported.</li>
 *   <li>{@link #pinned}: a virtual thread blocked while mounted on its carrier (see {@link MountedVirtualThread}),
 *       the same one on the same carrier in every sample. Parked virtual threads that unmounted (the normal case)
 *       are not in the dump at all, so they are never reported.</li>
 *   <li>{@link #overuse}: more platform threads than {@code limit}; grouped by state and by pool (the name with its
 *       trailing number removed).</li>
 * </ul>
 */
public final class DumpAnalysis {
    private static final int STALL_FRAMES = 3;
    private static final Pattern TRAILING_NUMBER = Pattern.compile("[-#_ ]?\\d+$");

    private DumpAnalysis() {
    }

    /** Deadlock cycles present in every dump of {@code dumps} (in the last dump's words). */
    public static List<Finding.Deadlock> deadlocks(List<ThreadDump> dumps) {
        requireDumps(dumps);
        List<Finding.Deadlock> last = deadlocksIn(dumps.getLast());
        return last.stream().filter(d -> dumps.stream().allMatch(dump -> deadlocksIn(dump).stream()
                .anyMatch(other -> names(other).equals(names(d))))).toList();
    }

    /** Deadlock cycles of one dump. */
    public static List<Finding.Deadlock> deadlocksIn(ThreadDump dump) {
        Objects.requireNonNull(dump, "dump");
        Map<LockId, ThreadSample> owners = owners(dump);
        Map<String, ThreadSample> byName = new LinkedHashMap<>();
        dump.threads().forEach(t -> byName.putIfAbsent(t.name(), t));
        Set<String> reported = new HashSet<>();
        List<Finding.Deadlock> found = new ArrayList<>();
        for (ThreadSample start : dump.threads()) {
            // Follow the wait-for chain from each thread; a chain that returns to a thread already on it is a cycle.
            List<ThreadSample> path = new ArrayList<>();
            Set<String> onPath = new HashSet<>();
            ThreadSample t = start;
            while (t != null && onPath.add(t.name())) {
                path.add(t);
                t = waitsWithoutTimeout(t) ? t.waitingFor().map(owners::get).orElse(null) : null;
            }
            if (t == null) {
                continue;
            }
            List<ThreadSample> ring = path.subList(path.indexOf(t), path.size());
            Set<String> key = new HashSet<>();
            ring.forEach(r -> key.add(r.name()));
            if (!reported.addAll(key)) {
                continue;
            }
            List<Finding.CycleEdge> edges = new ArrayList<>();
            for (ThreadSample r : ring) {
                LockId lock = r.waitingFor().orElseThrow();
                edges.add(new Finding.CycleEdge(r.name(), lock, r.waitingLine().orElse(""), owners.get(lock).name()));
            }
            found.add(new Finding.Deadlock(edges));
        }
        return found;
    }

    /**
     * Whether {@code t} waits with no timeout: a thread in a timed wait ({@code tryLock(timeout)}, {@code wait(ms)})
     * gives up by itself, so a ring that contains one resolves and is not a deadlock.
     */
    private static boolean waitsWithoutTimeout(ThreadSample t) {
        return t.state() == Thread.State.BLOCKED || t.state() == Thread.State.WAITING;
    }

    /** Locks that at least {@code minWaiters} threads try to acquire in the last dump. */
    public static List<Finding.ContentionHotSpot> hotSpots(List<ThreadDump> dumps, int minWaiters) {
        requireDumps(dumps);
        if (minWaiters < 2) {
            throw new IllegalArgumentException("minWaiters must be at least 2: " + minWaiters);
        }
        ThreadDump dump = dumps.getLast();
        Map<LockId, ThreadSample> owners = owners(dump);
        Map<LockId, List<ThreadSample>> waiters = new LinkedHashMap<>();
        for (ThreadSample t : dump.threads()) {
            t.waitingFor().filter(l -> owners.containsKey(l) || t.state() == Thread.State.BLOCKED)
                    .ifPresent(l -> waiters.computeIfAbsent(l, k -> new ArrayList<>()).add(t));
        }
        List<Finding.ContentionHotSpot> found = new ArrayList<>();
        waiters.forEach((lock, ws) -> {
            if (ws.size() >= minWaiters) {
                ThreadSample owner = owners.get(lock);
                found.add(new Finding.ContentionHotSpot(lock, owner == null ? "" : owner.name(),
                        ws.stream().map(ThreadSample::name).toList(), ws.getFirst().waitingLine().orElse("")));
            }
        });
        return found;
    }

    /** Threads RUNNABLE in the same top frames in every dump (needs at least two dumps to report anything). */
    public static List<Finding.Stall> stalls(List<ThreadDump> dumps) {
        requireDumps(dumps);
        if (dumps.size() < 2) {
            return List.of();
        }
        long span = Duration.between(dumps.getFirst().takenAt(), dumps.getLast().takenAt()).toMillis();
        List<Finding.Stall> found = new ArrayList<>();
        for (ThreadSample t : dumps.getLast().threads()) {
            if (t.state() != Thread.State.RUNNABLE || t.frames().isEmpty()
                    || t.frames().getFirst().contains("Native Method)")) {
                continue;
            }
            List<String> top = t.topFrames(STALL_FRAMES);
            boolean same = dumps.stream().allMatch(d -> d.threads().stream().anyMatch(o -> o.name().equals(t.name())
                    && o.state() == Thread.State.RUNNABLE && o.topFrames(STALL_FRAMES).equals(top)));
            if (same) {
                found.add(new Finding.Stall(t.name(), top, dumps.size(), span));
            }
        }
        return found;
    }

    /**
     * Virtual threads blocked while mounted in every dump (the same id on the same carrier), named by their ids;
     * {@link Doctor} adds their names.
     */
    public static List<Finding.PinnedVirtualThread> pinned(List<ThreadDump> dumps) {
        requireDumps(dumps);
        List<Finding.PinnedVirtualThread> found = new ArrayList<>();
        for (MountedVirtualThread v : dumps.getLast().mounted()) {
            boolean always = v.blockedOnCarrier() && dumps.stream().allMatch(d -> d.mounted().stream()
                    .anyMatch(o -> o.id().equals(v.id()) && o.carrier().equals(v.carrier()) && o.blockedOnCarrier()));
            if (always) {
                found.add(new Finding.PinnedVirtualThread(v.id(), v.carrier(), v.blocksAt(), v.pinnedBy().orElse(""),
                        v.nativeCallSite().orElse(""), v.frames()));
            }
        }
        return found;
    }

    /** Thread overuse in the last dump: empty if it has at most {@code limit} threads. */
    public static List<Finding.ThreadOveruse> overuse(List<ThreadDump> dumps, int cores, int limit) {
        requireDumps(dumps);
        if (cores < 1 || limit < 1) {
            throw new IllegalArgumentException("cores and limit must be positive: " + cores + ", " + limit);
        }
        List<ThreadSample> threads = dumps.getLast().threads();
        if (threads.size() <= limit) {
            return List.of();
        }
        Map<Thread.State, Integer> byState = new TreeMap<>();
        Map<String, Integer> byPool = new HashMap<>();
        for (ThreadSample t : threads) {
            byState.merge(t.state(), 1, Integer::sum);
            byPool.merge(poolName(t.name()), 1, Integer::sum);
        }
        Map<String, Integer> largest = new LinkedHashMap<>();
        byPool.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(3)
                .forEach(e -> largest.put(e.getKey(), e.getValue()));
        int runnable = byState.getOrDefault(Thread.State.RUNNABLE, 0);
        String reason = runnable > 4 * cores
                ? runnable + " RUNNABLE threads compete for " + cores + " cores: time goes to switching, not work"
                : (threads.size() - runnable) + " threads wait (each holds a stack and a kernel thread) while only "
                  + cores + " can run; a pool sized to the work, or virtual threads for blocking I/O, would do";
        return List.of(new Finding.ThreadOveruse(threads.size(), cores, byState, largest, reason));
    }

    /** The pool a thread belongs to, guessed from its name: "pool-1-thread-7" → "pool-1-thread". */
    static String poolName(String threadName) {
        String base = TRAILING_NUMBER.matcher(threadName).replaceFirst("");
        return base.isEmpty() ? threadName : base;
    }

    private static Map<LockId, ThreadSample> owners(ThreadDump dump) {
        Map<LockId, ThreadSample> owners = new HashMap<>();
        for (ThreadSample t : dump.threads()) {
            t.held().forEach(l -> owners.putIfAbsent(l, t));
        }
        return owners;
    }

    private static Set<String> names(Finding.Deadlock d) {
        Set<String> names = new LinkedHashSet<>();
        d.cycle().forEach(e -> names.add(e.thread()));
        return names;
    }

    private static void requireDumps(List<ThreadDump> dumps) {
        Objects.requireNonNull(dumps, "dumps");
        if (dumps.isEmpty()) {
            throw new IllegalArgumentException("no thread dump to analyse");
        }
    }
}
