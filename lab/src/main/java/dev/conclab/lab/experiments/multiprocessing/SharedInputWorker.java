package dev.conclab.lab.experiments.multiprocessing;

import dev.conclab.toolkit.process.ParentWatch;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A worker JVM of {@link SharedMemory}: it gets a large read-only input one of two ways, reads every byte of it
 * (a checksum), and reports what that did to its memory.
 *
 * <p>Commands on stdin: {@code c} + a long {@code n} + {@code n} bytes — the input itself, copied into this
 * worker's heap; {@code m} + a UTF path + a long {@code n} — map {@code n} bytes of that file READ_ONLY as an FFM
 * {@link MemorySegment} and read it in place; {@code q} — exit. Each answer on stdout is three longs: the checksum,
 * then {@code RssAnon} and {@code RssShmem} from {@code /proc/self/status}, in KiB, taken while the input is still
 * held (the array referenced, the mapping open). It also answers three longs (0, RssAnon, RssShmem) as soon as it
 * starts, so the parent knows it is ready and has its baseline. Exits with its parent ({@link ParentWatch}).
 */
public final class SharedInputWorker {

    private SharedInputWorker() {
    }

    public static void main(String[] args) throws IOException {
        ParentWatch.exitWithParent();
        DataInputStream in = new DataInputStream(new FileInputStream(FileDescriptor.in));
        DataOutputStream out = new DataOutputStream(new FileOutputStream(FileDescriptor.out));
        answer(out, 0);
        while (true) {
            int command;
            try {
                command = in.readUnsignedByte();
            } catch (EOFException e) {
                return;
            }
            switch (command) {
                case 'c' -> {
                    byte[] input = new byte[Math.toIntExact(in.readLong())];
                    in.readFully(input);
                    answer(out, checksum(MemorySegment.ofArray(input)));
                    // The answer above was measured while `input` was still reachable; now it may go.
                }
                case 'm' -> {
                    Path file = Path.of(in.readUTF());
                    long size = in.readLong();
                    try (Arena arena = Arena.ofConfined();
                         FileChannel channel = FileChannel.open(file)) {
                        MemorySegment input = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                        answer(out, checksum(input));
                    }
                }
                case 'q' -> {
                    return;
                }
                default -> throw new IOException("unknown command " + command);
            }
        }
    }

    /** The sum of the input read as longs: touches every byte, so every page is brought in. */
    static long checksum(MemorySegment input) {
        long sum = 0;
        long longs = input.byteSize() / Long.BYTES;
        for (long i = 0; i < longs; i++) {
            sum += input.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return sum;
    }

    private static void answer(DataOutputStream out, long checksum) throws IOException {
        long anon = 0;
        long shmem = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("RssAnon:")) {
                anon = kib(line);
            } else if (line.startsWith("RssShmem:")) {
                shmem = kib(line);
            }
        }
        out.writeLong(checksum);
        out.writeLong(anon);
        out.writeLong(shmem);
        out.flush();
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
}
