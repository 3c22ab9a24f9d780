package dev.conclab.toolkit.diagnostics.doctor;

import dev.conclab.toolkit.process.JvmLauncher;
import dev.conclab.toolkit.process.ParentWatch;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A JVM made sick on purpose, for testing the doctor (its tests and {@code conclab doctor --self-test}): run as
 * {@code java ... SickJvm MODE [N]} in a child JVM. Each mode forces its condition with latches and state checks
 * (never a sleep that makes it merely likely), then prints {@value #READY} on standard output and keeps the
 * condition until the process is destroyed. The child exits by itself when its parent dies ({@link ParentWatch}).
 *
 * <p>Modes: {@code deadlock-monitors} (two threads, two {@code synchronized} locks, a cycle),
 * {@code deadlock-locks} (the same with two {@code ReentrantLock}s), {@code stall} (one thread spinning in one
 * method), {@code contention} (6 threads BLOCKED on a monitor another thread holds), {@code threads N} (N parked
 * platform threads), {@code children} (one child JVM, itself healthy), {@code healthy} (an idle pool and a sleeping
 * main), {@code pinned N} (N virtual threads, at most 8, each parked inside an FFM upcall called from native
 * {@code qsort}, so pinned to its carrier; needs {@code --enable-native-access=ALL-UNNAMED} to run without a
 * warning) and {@code virtual-parked N} (N virtual threads parked on a latch, unmounted: healthy).
 *
 * <p>Only {@link #main} is meant to be used, once per process: it never returns (the condition is held until the
 * process is destroyed), and a bad mode or count ends it with an exception before {@value #READY} is printed.
 */
public final class SickJvm {
    /** The line a child prints once its condition holds. */
    public static final String READY = "SICK-JVM-READY";

    private static volatile long sink;
    private static volatile CountDownLatch inComparator = new CountDownLatch(0);

    private SickJvm() {
    }

    public static void main(String[] args) throws Throwable {
        ParentWatch.exitWithParent();
        String mode = args.length > 0 ? args[0].toLowerCase(Locale.ROOT) : "healthy";
        switch (mode) {
            case "deadlock-monitors" -> deadlockMonitors();
            case "deadlock-locks" -> deadlockLocks();
            case "stall" -> stall();
            case "contention" -> contention();
            case "threads" -> threads(args.length > 1 ? Integer.parseInt(args[1]) : 2000);
            case "children" -> children();
            case "healthy" -> healthy();
            case "pinned" -> pinned(args.length > 1 ? Integer.parseInt(args[1]) : 2);
            case "virtual-parked" -> virtualParked(args.length > 1 ? Integer.parseInt(args[1]) : 2000);
            default -> throw new IllegalArgumentException("unknown mode: " + mode);
        }
        System.out.println(READY);
        System.out.flush();
        new CountDownLatch(1).await(); // hold the condition until destroyed
    }

    private static void deadlockMonitors() throws InterruptedException {
        Object a = new Object();
        Object b = new Object();
        CountDownLatch bothHold = new CountDownLatch(2);
        Thread t1 = start("transfer-a-to-b", () -> {
            synchronized (a) {
                bothHold.countDown();
            awaitQuietly(bothHold);
                synchronized (b) {
                    sink++;
                }
            }
        });
        Thread t2 = start("transfer-b-to-a", () -> {
            synchronized (b) {
                bothHold.countDown();
            awaitQuietly(bothHold);
                synchronized (a) {
                    sink++;
                }
            }
        });
        // Both hold one monitor and have passed the latch: wait until each is BLOCKED on the other's.
        while (t1.getState() != Thread.State.BLOCKED || t2.getState() != Thread.State.BLOCKED) {
            Thread.onSpinWait();
        }
    }

    private static void deadlockLocks() {
        ReentrantLock x = new ReentrantLock();
        ReentrantLock y = new ReentrantLock();
        CountDownLatch bothHold = new CountDownLatch(2);
        start("lock-x-then-y", () -> {
            x.lock();
            bothHold.countDown();
            awaitQuietly(bothHold);
            y.lock();
        });
        start("lock-y-then-x", () -> {
            y.lock();
            bothHold.countDown();
            awaitQuietly(bothHold);
            x.lock();
        });
        while (!x.hasQueuedThreads() || !y.hasQueuedThreads()) {
            Thread.onSpinWait();
        }
    }

    private static void stall() throws InterruptedException {
        CountDownLatch spinning = new CountDownLatch(1);
        Thread t = new Thread(() -> spinForever(spinning), "spinner");
        t.setDaemon(true);
        t.start();
        spinning.await();
    }

    private static void spinForever(CountDownLatch spinning) {
        spinning.countDown();
        long x = 1;
        while (true) {
            x = x * 6364136223846793005L + 1442695040888963407L; // busy, never returns
            if (x == 42) {
                sink = x;
            }
        }
    }

    private static void contention() {
        Object hot = new Object();
        CountDownLatch holding = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            synchronized (hot) {
                holding.countDown();
                awaitQuietly(new CountDownLatch(1));
            }
        }, "hot-holder");
        holder.setDaemon(true);
        holder.start();
        awaitQuietly(holding);
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Thread w = new Thread(() -> {
                synchronized (hot) {
                    sink++;
                }
            }, "hot-waiter-" + i);
            w.setDaemon(true);
            w.start();
            waiters.add(w);
        }
        while (!waiters.stream().allMatch(w -> w.getState() == Thread.State.BLOCKED)) {
            Thread.onSpinWait();
        }
    }

    private static void threads(int n) {
        CountDownLatch started = new CountDownLatch(n);
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                started.countDown();
                awaitQuietly(never);
            }, "worker-" + i);
            t.setDaemon(true);
            t.start();
        }
        awaitQuietly(started);
    }

    private static void children() throws Exception {
        // A healthy JVM as the helper process: it watches this one, so it cannot outlive the test.
        JvmLauncher.ofCurrentJvm().start(SickJvm.class, "healthy");
    }

    private static void healthy() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        for (int i = 0; i < 4; i++) {
            pool.submit(() -> sink++).get();
        }
    }

    /**
     * Pins {@code n} virtual threads: each calls the C library's {@code qsort} through an FFM downcall, and
     * {@code qsort} calls back into Java (an upcall) to compare, where the comparator parks on a latch. A native
     * frame ({@code qsort}) sits between the park and the virtual thread's start, so it cannot unmount. Ready once
     * every one of them is WAITING inside the comparator (a pinned park, since it is past the native frame); a
     * carrier is kept free beyond the pinned ones so that the rest of the JVM's virtual threads still run.
     */
    private static void pinned(int n) throws Throwable {
        if (n < 1 || n > 8) {
            throw new IllegalArgumentException("pinned: 1..8 virtual threads, not " + n);
        }
        // Read when the first virtual thread is created: enough carriers for the pinned ones plus one free.
        int carriers = Math.max(Runtime.getRuntime().availableProcessors(), n + 1);
        System.setProperty("jdk.virtualThreadScheduler.parallelism", Integer.toString(carriers));
        Linker linker = Linker.nativeLinker();
        MethodHandle qsort = linker.downcallHandle(linker.defaultLookup().findOrThrow("qsort"),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS));
        MethodHandle compare = MethodHandles.lookup().findStatic(SickJvm.class, "compareAndPark",
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
        AddressLayout intPointer = ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT);
        MemorySegment comparator = linker.upcallStub(compare,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, intPointer, intPointer), Arena.global());
        inComparator = new CountDownLatch(n);
        List<Thread> pinned = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pinned.add(Thread.ofVirtual().name("pinned-in-qsort-" + i).start(() -> {
                MemorySegment ints = Arena.global().allocateFrom(ValueLayout.JAVA_INT, 2, 1);
                try {
                    qsort.invokeExact(ints, 2L, ValueLayout.JAVA_INT.byteSize(), comparator);
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        // In the comparator (counted) and parked there (WAITING): only then is each one pinned.
        awaitQuietly(inComparator);
        while (!pinned.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            Thread.onSpinWait();
        }
    }

    /** The comparator {@code qsort} calls: counts itself in, then parks forever (never returns to native code). */
    private static int compareAndPark(MemorySegment a, MemorySegment b) {
        inComparator.countDown();
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Integer.compare(a.get(ValueLayout.JAVA_INT, 0), b.get(ValueLayout.JAVA_INT, 0));
    }

    private static void virtualParked(int n) {
        CountDownLatch never = new CountDownLatch(1);
        List<Thread> parked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            parked.add(Thread.ofVirtual().name("parked-virtual-" + i).start(() -> awaitQuietly(never)));
        }
        // WAITING: parked in the await, and (no native frame below it) unmounted from its carrier.
        while (!parked.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            Thread.onSpinWait();
        }
    }

    private static Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
