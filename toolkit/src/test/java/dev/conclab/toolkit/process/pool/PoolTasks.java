package dev.conclab.toolkit.process.pool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Tasks the tests run in pool workers (the workers' class path includes the test classes). */
public final class PoolTasks {

    private static final AtomicInteger INIT_CALLS = new AtomicInteger();

    private PoolTasks() {
    }

    static long square(long x) {
        return x * x;
    }

    static long add(long a, long b) {
        return a + b;
    }

    static Object echo(Object value) {
        return value;
    }

    static long pid() {
        return ProcessHandle.current().pid();
    }

    /** The worker's pid beside the item, to see which worker ran which item. */
    static List<Object> pidOf(Object item) {
        return List.of(ProcessHandle.current().pid(), item);
    }

    static long sleepMillis(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return millis;
    }

    static void fail(String message) {
        try {
            Integer.parseInt(message);
        } catch (NumberFormatException cause) {
            throw new IllegalStateException("task failed: " + message, cause);
        }
    }

    /** Writes this worker's pid to {@code path} (the "I have started" signal), then hangs. */
    static void signalAndHang(String path) throws IOException, InterruptedException {
        Path tmp = Path.of(path + ".tmp");
        Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()));
        Files.move(tmp, Path.of(path)); // atomic: the test never reads a half-written pid
        Thread.sleep(600_000);
    }

    /** Waits until {@code path} exists (at most a minute, so that a broken test ends), then returns {@code item}. */
    static Object awaitFile(String path, Object item) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(Path.of(path)) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return item;
    }

    /** Creates {@code path}, then returns {@code item}. */
    static Object touch(String path, Object item) throws IOException {
        Files.writeString(Path.of(path), "done");
        return item;
    }

    /** {@code n} bytes, byte {@code i} being {@code i * 31}. */
    static byte[] bytes(long n) {
        byte[] out = new byte[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (i * 31);
        }
        return out;
    }

    static void init() {
        INIT_CALLS.incrementAndGet();
    }

    static long initCalls() {
        return INIT_CALLS.get();
    }

    static void badInit() {
        throw new UnsupportedOperationException("no database here");
    }

    static Object notAWireType() {
        return new Object();
    }

    static void halt(long status) {
        Runtime.getRuntime().halt((int) status);
    }
}
