package dev.conclab.toolkit.diagnostics.doctor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parser and the analyses on a real JDK 25 dump (two deadlocks: monitors and ReentrantLocks). */
class ThreadDumpParserTest {

    private static ThreadDump fixture() throws IOException {
        return fixture("/doctor/deadlock-thread-print.txt");
    }

    private static ThreadDump fixture(String name) throws IOException {
        try (InputStream in = ThreadDumpParserTest.class.getResourceAsStream(name)) {
            return ThreadDumpParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), Instant.EPOCH);
        }
    }

    @Test
    void readsStatesLocksAndFrames() throws IOException {
        ThreadDump dump = fixture();
        ThreadSample ta = dump.threads().stream().filter(t -> t.name().equals("t-a")).findFirst().orElseThrow();
        assertEquals(Thread.State.BLOCKED, ta.state());
        assertEquals("0x000000069e2f8480", ta.waitingFor().orElseThrow().address());
        assertEquals("Dl.lambda$main$0(Dl.java:4)", ta.waitingLine().orElseThrow());
        assertEquals(List.of(new LockId("0x000000069e2f8470", "java.lang.Object")), ta.held());
        ThreadSample rb = dump.threads().stream().filter(t -> t.name().equals("r-b")).findFirst().orElseThrow();
        assertEquals(Thread.State.WAITING, rb.state());
        assertEquals("0x000000069e3083c8", rb.held().getFirst().address());
        // Threads of the trailing deadlock section are not counted twice.
        assertEquals(dump.threads().size(), dump.threads().stream().map(ThreadSample::name).distinct().count());
    }

    @Test
    void findsBothCyclesWithTheirLines() throws IOException {
        List<Finding.Deadlock> found = DumpAnalysis.deadlocks(List.of(fixture()));
        Set<Set<String>> rings = found.stream()
                .map(d -> d.cycle().stream().map(Finding.CycleEdge::thread).collect(Collectors.toSet()))
                .collect(Collectors.toSet());
        assertEquals(Set.of(Set.of("t-a", "t-b"), Set.of("r-a", "r-b")), rings);
        Finding.Deadlock locks = found.stream().filter(d -> d.summary().contains("r-a")).findFirst().orElseThrow();
        assertTrue(locks.summary().contains("at Dl.lambda$main$2(Dl.java:7)"), locks.summary());
    }

    /**
     * The same ReentrantLock ring, but one thread waits with a timeout ({@code tryLock(20, MILLISECONDS)}): it gives
     * up by itself, so the ring resolves and is no deadlock; the monitor ring beside it still is.
     */
    @Test
    void aRingWithATimedWaitIsNoDeadlock() throws IOException {
        ThreadDump dump = fixture();
        List<ThreadSample> threads = dump.threads().stream()
                .map(t -> !t.name().equals("r-b") ? t : new ThreadSample(t.name(), t.daemon(),
                        Thread.State.TIMED_WAITING, t.frames(), t.waitingFor(), t.waitingLine(), t.held()))
                .toList();
        List<Finding.Deadlock> found = DumpAnalysis.deadlocks(List.of(new ThreadDump(dump.takenAt(), threads)));
        assertEquals(List.of(Set.of("t-a", "t-b")), found.stream()
                .map(d -> d.cycle().stream().map(Finding.CycleEdge::thread).collect(Collectors.toSet())).toList());
    }

    @Test
    void noAlarmsBesidesTheDeadlocks() throws IOException {
        List<ThreadDump> dumps = List.of(fixture());
        assertEquals(List.of(), DumpAnalysis.hotSpots(dumps, 2));
        assertEquals(List.of(), DumpAnalysis.overuse(dumps, 2, 256));
        assertEquals(List.of(), DumpAnalysis.stalls(dumps));
    }

    /** Two virtual threads parked in an FFM upcall from {@code qsort} (a JDK 25 dump), five unstarted ones. */
    @Test
    void findsVirtualThreadsPinnedUnderANativeFrame() throws IOException {
        ThreadDump dump = fixture("/doctor/pinned-thread-print.txt");
        assertEquals(List.of("#22", "#24"), dump.mounted().stream().map(MountedVirtualThread::id).toList());
        List<Finding.PinnedVirtualThread> pinned = DumpAnalysis.pinned(List.of(dump, dump));
        assertEquals(List.of("ForkJoinPool-1-worker-1", "ForkJoinPool-1-worker-2"),
                pinned.stream().map(Finding.PinnedVirtualThread::carrier).toList());
        Finding.PinnedVirtualThread first = pinned.getFirst();
        assertEquals("Pin.compare(Pin.java:11)", first.blocksAt());
        assertTrue(first.pinnedBy().startsWith("jdk.internal.foreign.abi.UpcallStub"), first.pinnedBy());
        assertEquals("Pin.lambda$main$0(Pin.java:26)", first.nativeCallSite());
        // The carriers, which print no state line while carrying, are no stall or other alarm.
        assertEquals(List.of(), DumpAnalysis.stalls(List.of(dump, dump)));
    }

    @Test
    void aMountedVirtualThreadThatRunsIsNotPinned() {
        MountedVirtualThread running = new MountedVirtualThread("#7", "ForkJoinPool-1-worker-1",
                List.of("App.crunch(App.java:10)", "java.lang.VirtualThread.run(VirtualThread.java:460)"));
        MountedVirtualThread parked = new MountedVirtualThread("#8", "ForkJoinPool-1-worker-2",
                List.of("jdk.internal.misc.Unsafe.park(Native Method)",
                        "java.lang.VirtualThread.parkOnCarrierThread(VirtualThread.java:817)",
                        "App.lambda$main$0(App.java:5)"));
        ThreadDump dump = new ThreadDump(Instant.EPOCH, List.of(), List.of(running, parked));
        assertEquals(List.of("#8"), DumpAnalysis.pinned(List.of(dump)).stream()
                .map(Finding.PinnedVirtualThread::virtualThread).toList());
        // Pinned in one sample only (it moved on by the next): a brief pin is normal, not reported.
        ThreadDump later = new ThreadDump(Instant.EPOCH, List.of(), List.of(running));
        assertEquals(List.of(), DumpAnalysis.pinned(List.of(dump, later)));
    }

    @Test
    void rejectsTextThatIsNoDump() {
        assertThrows(IllegalArgumentException.class, () -> ThreadDumpParser.parse("hello", Instant.EPOCH));
        assertEquals("pool-1-thread", DumpAnalysis.poolName("pool-1-thread-7"));
    }
}
