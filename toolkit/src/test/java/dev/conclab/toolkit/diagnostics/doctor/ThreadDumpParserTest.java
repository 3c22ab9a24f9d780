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
        try (InputStream in = ThreadDumpParserTest.class.getResourceAsStream("/doctor/deadlock-thread-print.txt")) {
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

    @Test
    void noAlarmsBesidesTheDeadlocks() throws IOException {
        List<ThreadDump> dumps = List.of(fixture());
        assertEquals(List.of(), DumpAnalysis.hotSpots(dumps, 2));
        assertEquals(List.of(), DumpAnalysis.overuse(dumps, 2, 256));
        assertEquals(List.of(), DumpAnalysis.stalls(dumps));
    }

    @Test
    void rejectsTextThatIsNoDump() {
        assertThrows(IllegalArgumentException.class, () -> ThreadDumpParser.parse("hello", Instant.EPOCH));
        assertEquals("pool-1-thread", DumpAnalysis.poolName("pool-1-thread-7"));
    }
}
