package dev.conclab.toolkit.diagnostics.doctor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One problem the doctor found in a JVM, with the evidence that shows it (thread names, states, stack lines), so
 * that it can be told in plain words by {@link #summary()} and checked by a reader. Every implementation is an
 * immutable, thread-safe record.
 */
public sealed interface Finding {

    /** One line, in plain words, naming the problem and its evidence. */
    String summary();

    /** One thread of a deadlock cycle: it waits for {@code waitsFor}, held by the next thread of the cycle. */
    record CycleEdge(String thread, LockId waitsFor, String waitsAt, String heldBy) {
        public CycleEdge {
            Objects.requireNonNull(thread, "thread");
            Objects.requireNonNull(waitsFor, "waitsFor");
            Objects.requireNonNull(waitsAt, "waitsAt");
            Objects.requireNonNull(heldBy, "heldBy");
        }
    }

    /**
     * A ring of threads, each waiting for a lock the next one holds: none can ever proceed. Seen in every sample
     * (a cycle of untimed acquisitions cannot resolve itself).
     */
    record Deadlock(List<CycleEdge> cycle) implements Finding {
        public Deadlock {
            cycle = List.copyOf(cycle);
            if (cycle.size() < 1) {
                throw new IllegalArgumentException("a deadlock cycle needs at least one thread");
            }
        }

        @Override
        public String summary() {
            StringBuilder sb = new StringBuilder("DEADLOCK of ").append(cycle.size()).append(" threads: ");
            for (CycleEdge e : cycle) {
                sb.append('"').append(e.thread()).append("\" waits for ").append(e.waitsFor())
                        .append(" at ").append(e.waitsAt()).append(", held by \"").append(e.heldBy()).append("\"; ");
            }
            return sb.substring(0, sb.length() - 2);
        }
    }

    /** Many threads blocked on one lock at once; {@code owner} is the thread holding it ("" if unknown). */
    record ContentionHotSpot(LockId lock, String owner, List<String> waiters, String waitsAt) implements Finding {
        public ContentionHotSpot {
            Objects.requireNonNull(lock, "lock");
            Objects.requireNonNull(owner, "owner");
            waiters = List.copyOf(waiters);
            Objects.requireNonNull(waitsAt, "waitsAt");
        }

        @Override
        public String summary() {
            return "CONTENTION: " + waiters.size() + " threads wait for " + lock + " at " + waitsAt
                    + (owner.isEmpty() ? "" : ", held by \"" + owner + "\"") + " (e.g. " + sample(waiters) + ")";
        }
    }

    /** A thread RUNNABLE in the same top frames in every one of {@code samples} dumps: a spin or a long call. */
    record Stall(String thread, List<String> topFrames, int samples, long spanMillis) implements Finding {
        public Stall {
            Objects.requireNonNull(thread, "thread");
            topFrames = List.copyOf(topFrames);
        }

        @Override
        public String summary() {
            return "STALL: \"" + thread + "\" was RUNNABLE at " + topFrames.getFirst() + " in all " + samples
                    + " samples over " + spanMillis + " ms";
        }
    }

    /** Far more threads than the cores and the work justify: counts by state and by pool (name prefix). */
    record ThreadOveruse(int threads, int cores, Map<Thread.State, Integer> byState, Map<String, Integer> byPool,
                         String reason) implements Finding {
        public ThreadOveruse {
            // Copies that keep the caller's order: states in declaration order, pools largest first.
            byState = Collections.unmodifiableMap(new LinkedHashMap<>(byState));
            byPool = Collections.unmodifiableMap(new LinkedHashMap<>(byPool));
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String summary() {
            return "THREAD OVERUSE: " + threads + " threads on " + cores + " cores; " + reason + "; by state "
                    + byState + "; largest pools " + byPool;
        }
    }

    /**
     * A virtual thread blocked while mounted on its carrier, in every sample: it cannot unmount because a native
     * or foreign frame (or a class initializer) is on its stack, so its carrier is blocked with it and cannot run
     * any other virtual thread. The scheduler does not replace a carrier lost this way, so as many such threads as
     * carriers stop every virtual thread of the JVM. (Since JDK 24, JEP 491, {@code synchronized} and
     * {@code Object.wait} no longer pin.)
     *
     * @param virtualThread  the virtual thread: its name with its id ({@code "pinned-0" #22}), or the id alone
     * @param carrier        the carrier thread it holds
     * @param blocksAt       where it blocks: the first frame of the reader's code, e.g. a latch await
     * @param pinnedBy       the frame that keeps it mounted (an upcall or downcall stub, a JNI frame), or ""
     * @param nativeCallSite where the reader's code called into native code, or "" if not visible
     * @param frames         its whole stack, innermost first
     */
    record PinnedVirtualThread(String virtualThread, String carrier, String blocksAt, String pinnedBy,
                               String nativeCallSite, List<String> frames) implements Finding {
        public PinnedVirtualThread {
            Objects.requireNonNull(virtualThread, "virtualThread");
            Objects.requireNonNull(carrier, "carrier");
            Objects.requireNonNull(blocksAt, "blocksAt");
            Objects.requireNonNull(pinnedBy, "pinnedBy");
            Objects.requireNonNull(nativeCallSite, "nativeCallSite");
            frames = List.copyOf(frames);
        }

        @Override
        public String summary() {
            return "PINNED: virtual thread " + virtualThread + " blocks at " + blocksAt + " while mounted on carrier \""
                    + carrier + "\"" + (pinnedBy.isEmpty() ? "" : ", pinned by " + pinnedBy)
                    + (nativeCallSite.isEmpty() ? "" : " (native call from " + nativeCallSite + ")")
                    + "; until it unblocks, that carrier runs no other virtual thread";
        }
    }

    /** Live child processes of the target: they outlive it (orphans) unless it stops them or they watch it. */
    record ChildProcesses(List<Long> pids, List<String> commands) implements Finding {
        public ChildProcesses {
            pids = List.copyOf(pids);
            commands = List.copyOf(commands);
        }

        @Override
        public String summary() {
            return "CHILD PROCESSES: " + pids.size() + " live children " + pids
                    + " would be orphaned if the target died without stopping them (" + sample(commands) + ")";
        }
    }

    private static String sample(List<String> items) {
        return items.size() <= 3 ? String.join(", ", items)
                : String.join(", ", items.subList(0, 3)) + ", ... (" + items.size() + ")";
    }
}
