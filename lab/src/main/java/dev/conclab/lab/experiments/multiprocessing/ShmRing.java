package dev.conclab.lab.experiments.multiprocessing;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * A file mapped into two processes (FFM {@link MemorySegment}, JEP 454) that carries bytes one way and small
 * messages both ways, with no system call on the path: a single-producer/single-consumer byte ring for bulk data,
 * and a ping and a pong slot each handed over by a sequence counter for round trips.
 *
 * <p>Layout (offsets in bytes): {@code 0} head (bytes the producer has published), {@code 64} tail (bytes the
 * consumer has taken), {@code 128} ping sequence, {@code 192} pong sequence — each on its own cache line, so the
 * two processes do not write one line — then the ping slot at {@value #PING}, the pong slot at {@value #PONG} and
 * the ring at {@value #RING_OFFSET}.
 *
 * <p><b>Memory effects:</b> a counter is written with release semantics after the bytes it covers, and read with
 * acquire semantics before they are read; that ordering holds across processes because both map the same physical
 * pages and the CPU's memory model does not know processes apart. <b>Blocking:</b> waits spin
 * ({@link Thread#onSpinWait()}, yielding every 1024 spins) and give up with an {@link IOException} after
 * {@link #PATIENCE_SECONDS} seconds, so a dead peer is an error, not a hang. <b>Thread safety:</b> one producer
 * thread (in one process) and one consumer thread (in the other) per direction; not otherwise thread-safe.
 */
final class ShmRing implements AutoCloseable {

    static final long HEAD = 0;
    static final long TAIL = 64;
    static final long PING_SEQ = 128;
    static final long PONG_SEQ = 192;
    static final long PING = 4_096;
    static final long PONG = 8_192;
    /** The largest small message: one slot. */
    static final int SLOT = 4_096;
    static final long RING_OFFSET = 16_384;
    static final int RING = 4 << 20;
    /** Bytes copied per publish: small enough that the consumer copies one chunk while the producer fills the next. */
    static final int CHUNK = 128 << 10;
    static final long SIZE = RING_OFFSET + RING;
    static final long PATIENCE_SECONDS = 30;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final MemorySegment segment;

    private ShmRing(Arena arena, MemorySegment segment) {
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code file} (created and sized by the caller to {@link #SIZE} bytes) read-write. */
    static ShmRing map(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return new ShmRing(arena, channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Producer: publishes {@code length} bytes of {@code data}, waiting for room in the ring. */
    void write(byte[] data, int length) throws IOException {
        long head = (long) LONG.getAcquire(segment, HEAD);
        int done = 0;
        long deadline = deadline();
        int spins = 0;
        while (done < length) {
            long free = RING - (head - (long) LONG.getAcquire(segment, TAIL));
            if (free == 0) {
                spins = spin(spins, deadline);
                continue;
            }
            int position = (int) (head % RING);
            int n = (int) Math.min(Math.min(length - done, CHUNK), Math.min(free, RING - position));
            MemorySegment.copy(data, done, segment, ValueLayout.JAVA_BYTE, RING_OFFSET + position, n);
            head += n;
            done += n;
            LONG.setRelease(segment, HEAD, head);
        }
    }

    /** Consumer: takes exactly {@code length} bytes into {@code into}, waiting for the producer. */
    void read(byte[] into, int length) throws IOException {
        long tail = (long) LONG.getAcquire(segment, TAIL);
        int done = 0;
        long deadline = deadline();
        int spins = 0;
        while (done < length) {
            long available = (long) LONG.getAcquire(segment, HEAD) - tail;
            if (available == 0) {
                spins = spin(spins, deadline);
                continue;
            }
            int position = (int) (tail % RING);
            int n = (int) Math.min(Math.min(length - done, CHUNK), Math.min(available, RING - position));
            MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, RING_OFFSET + position, into, done, n);
            tail += n;
            done += n;
            LONG.setRelease(segment, TAIL, tail);
        }
    }

    /** Writes {@code length} bytes into the ping (or pong) slot, then publishes the next sequence number. */
    void send(boolean ping, byte[] message, int length) {
        long slot = ping ? PING : PONG;
        long seq = ping ? PING_SEQ : PONG_SEQ;
        MemorySegment.copy(message, 0, segment, ValueLayout.JAVA_BYTE, slot, length);
        LONG.setRelease(segment, seq, (long) LONG.getAcquire(segment, seq) + 1);
    }

    /** Waits until the ping (or pong) sequence passes {@code seen}, then copies the slot out; returns the new one. */
    long receive(boolean ping, long seen, byte[] into, int length) throws IOException {
        long seq = ping ? PING_SEQ : PONG_SEQ;
        long deadline = deadline();
        int spins = 0;
        long now;
        while ((now = (long) LONG.getAcquire(segment, seq)) == seen) {
            spins = spin(spins, deadline);
        }
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, ping ? PING : PONG, into, 0, length);
        return now;
    }

    /** The current ping (or pong) sequence number. */
    long sequence(boolean ping) {
        return (long) LONG.getAcquire(segment, ping ? PING_SEQ : PONG_SEQ);
    }

    private static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
    }

    private static int spin(int spins, long deadline) throws IOException {
        if ((++spins & 1023) == 0) {
            // On a busy machine the other process may need this core to make progress.
            Thread.yield();
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("the other process stopped answering through shared memory");
            }
        } else {
            Thread.onSpinWait();
        }
        return spins;
    }

    @Override
    public void close() {
        arena.close();
    }
}
