package dev.conclab.toolkit.diagnostics;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Finds threads of this JVM that are deadlocked: rings of threads in which each waits to acquire a lock that the
 * next one holds, so that none can ever proceed. A thin, typed layer over
 * {@link ThreadMXBean#findDeadlockedThreads()}: each cycle is reported with every thread, the lock it waits for,
 * and that lock's owner — what {@code jstack} prints as "Found one Java-level deadlock".
 *
 * <h2>What it sees</h2>
 * The JVM knows who <em>owns</em> a lock and who waits for it only for two kinds of lock, and so only cycles made
 * of these are found:
 * <ul>
 *   <li>object monitors: {@code synchronized} blocks and methods (a thread {@code BLOCKED} on entry);</li>
 *   <li>ownable synchronizers: locks built on {@code AbstractOwnableSynchronizer}, such as {@code ReentrantLock}
 *       and the write lock of {@code ReentrantReadWriteLock}, waited for by {@code lock()},
 *       {@code lockInterruptibly()} or a timed {@code tryLock} (a cycle through a timed wait is reported while the
 *       waits last, although it will resolve itself when a timeout expires).</li>
 * </ul>
 *
 * <h2>What it cannot see</h2>
 * <ul>
 *   <li>Waits with no owner: a {@code Semaphore} (permits belong to nobody), a {@code CountDownLatch},
 *       {@code CyclicBarrier} or {@code Phaser} nobody will trip, a {@code Condition} or {@code Object.wait} nobody
 *       will signal, a {@code Future} that never completes, a full or empty {@code BlockingQueue}. Threads stuck
 *       that way are as stuck as in a deadlock, but the JVM cannot tell whom they wait for, so there is no cycle
 *       to find. Such stalls need a timeout or a progress watchdog instead.</li>
 *   <li>Virtual threads: {@link ThreadMXBean} monitors platform threads only.</li>
 *   <li>Read locks of {@code ReentrantReadWriteLock} (shared, so they have no single owner), and any wait across
 *       processes (a database row lock, a file lock, a message never sent).</li>
 * </ul>
 * A report is a snapshot: a thread it names may have left the cycle (been interrupted, timed out) by the time the
 * caller reads it. A cycle of owned locks that <em>is</em> complete stays complete until something from outside
 * breaks it, so a reported cycle of untimed waits is a real deadlock.
 *
 * <h2>Thread safety and blocking</h2>
 * Instances are immutable and thread-safe. {@link #detect()} and {@link #locksHeldBy(Thread)} do not block on the
 * threads they inspect, but each call brings the JVM to a safepoint (a pause of all Java threads, usually well
 * under a millisecond), so polling should stay at intervals of milliseconds, not microseconds.
 * {@link #awaitDeadlock} blocks its caller, polling, until a matching deadlock is seen or the timeout passes; it
 * responds to interruption by throwing {@link InterruptedException}. A timeout of zero or less means one look.
 */
public final class DeadlockDetector {

    /** Default pause between two looks of {@link #awaitDeadlock}. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(10);

    private final ThreadMXBean threads;
    private final Duration pollInterval;
    private final Clock clock;

    private DeadlockDetector(ThreadMXBean threads, Duration pollInterval, Clock clock) {
        this.threads = threads;
        this.pollInterval = pollInterval;
        this.clock = clock;
    }

    /** A detector over this JVM's {@link ManagementFactory#getThreadMXBean() ThreadMXBean}. */
    public static DeadlockDetector ofThisJvm() {
        return new DeadlockDetector(ManagementFactory.getThreadMXBean(), DEFAULT_POLL_INTERVAL, Clock.systemUTC());
    }

    /**
     * The same detector, looking every {@code interval} while it awaits a deadlock.
     *
     * @throws IllegalArgumentException when {@code interval} is not positive
     */
    public DeadlockDetector withPollInterval(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive, got " + interval);
        }
        return new DeadlockDetector(threads, interval, clock);
    }

    /** The pause between two looks of {@link #awaitDeadlock}. */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** Looks once: every deadlock cycle in the JVM now, or an empty report. */
    public DeadlockReport detect() {
        long[] ids = findDeadlockedIds();
        if (ids == null || ids.length == 0) {
            return DeadlockReport.none(clock.instant());
        }
        ThreadInfo[] infos = threads.getThreadInfo(ids, threads.isObjectMonitorUsageSupported(),
                threads.isSynchronizerUsageSupported());
        Map<Long, ThreadInfo> byId = new LinkedHashMap<>();
        for (ThreadInfo info : infos) {
            if (info != null) {
                byId.put(info.getThreadId(), info);
            }
        }
        return new DeadlockReport(clock.instant(), cycles(byId));
    }

    /**
     * Waits until the JVM shows a deadlock whose cycle holds every one of {@code involving} (any deadlock when none
     * is given), looking every {@link #pollInterval()}.
     *
     * @return the first report showing such a cycle, or empty when none was seen within {@code timeout}
     * @throws InterruptedException when the caller is interrupted while waiting
     */
    public Optional<DeadlockReport> awaitDeadlock(Duration timeout, Thread... involving)
            throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(involving, "involving");
        for (Thread t : involving) {
            Objects.requireNonNull(t, "involving contains null");
        }
        Predicate<DeadlockReport> wanted = involving.length == 0 ? r -> !r.isEmpty() : r -> r.hasCycleOf(involving);
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while awaiting a deadlock");
            }
            DeadlockReport report = detect();
            if (wanted.test(report)) {
                return Optional.of(report);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            Thread.sleep(Duration.ofNanos(Math.min(left, pollInterval.toNanos())));
        }
    }

    /**
     * The locks {@code thread} holds now: the monitors it has entered and the ownable synchronizers it owns.
     * Empty when the thread has ended, holds nothing, or is a virtual thread.
     */
    public List<LockRef> locksHeldBy(Thread thread) {
        Objects.requireNonNull(thread, "thread");
        if (thread.isVirtual()) {
            return List.of();
        }
        ThreadInfo[] infos = threads.getThreadInfo(new long[]{thread.threadId()},
                threads.isObjectMonitorUsageSupported(), threads.isSynchronizerUsageSupported());
        ThreadInfo info = infos.length == 0 ? null : infos[0];
        if (info == null) {
            return List.of();
        }
        List<LockRef> held = new ArrayList<>();
        for (MonitorInfo monitor : info.getLockedMonitors()) {
            held.add(LockRef.of(monitor, LockRef.Kind.MONITOR));
        }
        for (LockInfo synchronizer : info.getLockedSynchronizers()) {
            held.add(LockRef.of(synchronizer, LockRef.Kind.OWNABLE_SYNCHRONIZER));
        }
        return List.copyOf(held);
    }

    private long[] findDeadlockedIds() {
        // findDeadlockedThreads also covers ownable synchronizers; a JVM that cannot track them offers only monitors.
        return threads.isSynchronizerUsageSupported() ? threads.findDeadlockedThreads()
                : threads.findMonitorDeadlockedThreads();
    }

    /**
     * Splits the deadlocked threads into rings by following "waits for a lock owned by". The JVM may also list a
     * thread that waits for a member of a ring without being in it; such a tail is left out. A walk that leaves
     * the set (a thread moved on between the two calls) finds no ring.
     */
    private static List<DeadlockReport.Cycle> cycles(Map<Long, ThreadInfo> byId) {
        List<DeadlockReport.Cycle> cycles = new ArrayList<>();
        Set<Long> done = new HashSet<>();
        for (long start : byId.keySet()) {
            Map<Long, Integer> position = new HashMap<>();
            List<Long> path = new ArrayList<>();
            Long current = start;
            while (current != null && !done.contains(current) && !position.containsKey(current)) {
                position.put(current, path.size());
                path.add(current);
                ThreadInfo info = byId.get(current);
                long owner = info.getLockOwnerId();
                current = owner >= 0 && byId.containsKey(owner) ? owner : null;
            }
            if (current != null && position.containsKey(current)) {
                List<Long> ring = path.subList(position.get(current), path.size());
                if (ring.stream().allMatch(id -> byId.get(id).getLockInfo() != null)) {
                    cycles.add(cycle(ring, byId));
                }
            }
            done.addAll(path);
        }
        cycles.sort((a, b) -> Long.compare(a.links().getFirst().threadId(), b.links().getFirst().threadId()));
        return cycles;
    }

    private static DeadlockReport.Cycle cycle(List<Long> ring, Map<Long, ThreadInfo> byId) {
        int first = ring.indexOf(ring.stream().min(Long::compare).orElseThrow());
        List<DeadlockReport.Link> links = new ArrayList<>(ring.size());
        for (int i = 0; i < ring.size(); i++) {
            ThreadInfo info = byId.get(ring.get((first + i) % ring.size()));
            LockInfo lock = info.getLockInfo();
            LockRef.Kind kind = info.getThreadState() == Thread.State.BLOCKED ? LockRef.Kind.MONITOR
                    : LockRef.Kind.OWNABLE_SYNCHRONIZER;
            links.add(new DeadlockReport.Link(info.getThreadId(), info.getThreadName(), info.getThreadState(),
                    LockRef.of(lock, kind), info.getLockOwnerId(), Objects.requireNonNullElse(info.getLockOwnerName(),
                    "?"), waitingAt(info.getStackTrace())));
        }
        return new DeadlockReport.Cycle(links);
    }

    private static StackTraceElement waitingAt(StackTraceElement[] stack) {
        if (stack.length == 0) {
            return null;
        }
        return Arrays.stream(stack)
                .filter(f -> !f.getClassName().startsWith("java.") && !f.getClassName().startsWith("jdk.")
                        && !f.getClassName().startsWith("sun."))
                .findFirst().orElse(stack[0]);
    }
}
