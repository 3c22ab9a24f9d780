package dev.conclab.lab.experiments.internals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The GIL, thread-local storage and atomic operations: three different things, each shown doing its job, on CPython
 * and on the JVM.
 *
 * <p><b>What "atomic" means on each side.</b> In CPython the GIL lets one thread at a time run bytecode, and the
 * interpreter switches threads only between bytecodes; so one bytecode, and the C function it calls
 * ({@code list.append}, {@code dict.__setitem__}), happens whole as far as other Python threads can tell. That is an
 * implementation detail of CPython, not a promise of the language: a statement such as {@code counter += 1} is
 * several bytecodes, and the free-threaded build (PEP 703) replaces the GIL with per-object locks. On the JVM there
 * is no global lock; what is atomic is written down in the Java Memory Model (JLS chapter 17: a read or write of a
 * reference or an {@code int} is atomic, of a non-volatile {@code long} or {@code double} need not be, §17.7) and
 * provided on purpose by {@code java.util.concurrent.atomic} and {@code VarHandle} (JEP 193, Java 9), whose
 * read-modify-write methods are single atomic steps. Thread-local storage ({@code threading.local},
 * {@code ThreadLocal}) is the opposite tool: nothing is shared, so nothing needs to be atomic.
 *
 * <p><b>BASELINE:</b> the bytecode. {@code count++} on a field is getfield, ladd, putfield (read from this class
 * file with the {@code java.lang.classfile} API); {@code counter += 1} is a load, a {@code BINARY_OP} and a store
 * (read with {@code dis} on the installed CPython).
 * <ol>
 *   <li><b>Broken</b>, JVM: {@code count++} written as what it compiles to, read; barrier; write. Every thread
 *       reads before any writes, so each round keeps one increment and loses (threads − 1), on every run.</li>
 *   <li><b>Broken</b>, CPython: the real {@code counter += 1}, run under a trace hook ({@code sys.settrace} with
 *       {@code f_trace_opcodes}) that makes every thread meet the others before each bytecode: every load comes
 *       before any store, and each round loses (threads − 1). That is the worst schedule the GIL permits.</li>
 *   <li>Correct, JVM: {@code AtomicLong.incrementAndGet} and {@code VarHandle.getAndAdd}, all threads released
 *       together by the barrier before each increment. Correct, CPython: the same increment under a
 *       {@code threading.Lock}; and {@code list.append}, {@code d[k] = v}, {@code deque.append} under the same
 *       before-every-bytecode lockstep, which lose nothing because each mutation is one bytecode.</li>
 *   <li>Thread-local storage: each thread writes its index to a {@code ThreadLocal} / {@code threading.local} and
 *       to a shared field, meets the others, reads both back. The local value is always its own; the shared one
 *       is the last writer's, so (threads − 1) reads per round show another thread's index.</li>
 * </ol>
 * A free-running {@code counter += 1} loop in CPython threads is reported without a claim: since CPython 3.10 the
 * interpreter looks at a pending GIL drop request only at certain instructions (backward jumps, calls, function
 * entry), never between the load and the store of that loop, so it often loses nothing, while 3.9 and older did.
 * The JVM's free-running {@code count++} is in {@code race-conditions}.
 *
 * <p>Stateless: each run builds its own objects and threads and stops every thread before it returns.
 *
 * <p>Run: {@code ./conclab run gil-atomicity}. Expect each broken version to lose exactly (threads − 1) × rounds,
 * every correct one none, each thread-local read its own value, and the shared field (threads − 1) × rounds
 * foreign reads.
 */
public final class GilAtomicity implements Experiment {

    static final ClaimSpec COUNT_BYTECODES = new ClaimSpec("count-plus-plus-bytecodes",
            "count++ on a long field compiles to separate getfield, ladd and putfield bytecodes: a read, an add and"
                    + " a write.");
    static final ClaimSpec COUNT_LOST = new ClaimSpec("count-plus-plus-lost",
            "count++ on a plain field loses exactly (threads − 1) updates per round when every thread reads before"
                    + " any writes.");
    static final ClaimSpec ATOMIC_NO_LOSS = new ClaimSpec("atomic-no-loss",
            "AtomicLong.incrementAndGet and VarHandle.getAndAdd lose no update, with all threads released together"
                    + " before every increment.");
    static final ClaimSpec THREAD_LOCAL = new ClaimSpec("thread-local",
            "A ThreadLocal reads back each thread's own value after every thread has written; a shared field read"
                    + " the same way shows another thread's value (threads − 1) times per round.");
    static final ClaimSpec PY_BYTECODES = new ClaimSpec("py-plus-equals-bytecodes",
            "In CPython, counter += 1 compiles to separate load, add and store bytecodes (the add is BINARY_OP"
                    + " since 3.11).");
    static final ClaimSpec PY_LOCKSTEP_LOST = new ClaimSpec("py-plus-equals-lost",
            "In CPython, counter += 1 loses exactly (threads − 1) updates per round when every thread meets the"
                    + " others before each bytecode: the GIL keeps a bytecode whole, not a statement.");
    static final ClaimSpec PY_LOCK = new ClaimSpec("py-lock",
            "In CPython, counter += 1 under a threading.Lock loses no update, with all threads released together"
                    + " before every increment.");
    static final ClaimSpec PY_ONE_CALL = new ClaimSpec("py-one-bytecode-mutations",
            "In CPython, list.append, dict item assignment and deque.append lose nothing even when every thread"
                    + " meets the others before each bytecode: each mutation is one bytecode running one C function.");
    static final ClaimSpec PY_THREAD_LOCAL = new ClaimSpec("py-thread-local",
            "In CPython, threading.local reads back each thread's own attribute after every thread has written; a"
                    + " shared object's attribute shows another thread's value (threads − 1) times per round.");

    /** A thread that has not reached the barrier by then is stuck, not slow: the run fails instead of hanging. */
    private static final long GIVE_UP_SECONDS = 30;

    @Override
    public String id() {
        return "gil-atomicity";
    }

    @Override
    public String title() {
        return "GIL vs thread-local storage vs atomic operations: += on a shared int, forced on every run";
    }

    @Override
    public String description() {
        return "Reads the bytecode of count++ (JVM) and counter += 1 (CPython dis), forces the lost update on both"
                + " (a barrier between read and write; a trace hook that makes CPython threads meet before every"
                + " bytecode), cures it with AtomicLong, VarHandle and threading.Lock, shows list.append and dict"
                + " assignment whole under the GIL, and thread-local storage against a shared field on both sides.";
    }

    @Override
    public List<Param> params() {
        return List.of(
                new Param.IntParam("threads", "threads racing", 2, 16, 2, 2),
                new Param.IntParam("rounds", "forced rounds on the JVM: each thread does one operation per round",
                        1, 200_000, 20_000, 1_000),
                new Param.IntParam("py-rounds", "forced rounds in CPython", 1, 100_000, 2_000, 300),
                new Param.IntParam("py-iterations", "free-running counter += 1 iterations per CPython thread"
                        + " (no claim)", 1, 50_000_000, 1_000_000, 200_000));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(COUNT_BYTECODES, COUNT_LOST, ATOMIC_NO_LOSS, THREAD_LOCAL, PY_BYTECODES, PY_LOCKSTEP_LOST,
                PY_LOCK, PY_ONE_CALL, PY_THREAD_LOCAL);
    }

    /** How one version came out: {@code wrong} counts lost updates or foreign reads. */
    record Outcome(String runtime, String what, String version, boolean broken, long expected, long observed,
                   String unit, long needed) {
        long wrong() {
            return Math.abs(expected - observed);
        }

        boolean asClaimed() {
            return wrong() == needed;
        }

        String evidence() {
            return String.format("%s, %s: %d of %d %s (needs exactly %d)", runtime, version, wrong(), expected, unit,
                    needed);
        }
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int threads = ctx.intParam("threads");
        int rounds = ctx.intParam("rounds");
        Table.Builder bytecode = Table.builder("The increment, as bytecode", "runtime", "statement", "bytecodes");
        Table.Builder forced = Table.builder("Forced interleavings (" + threads + " threads meet at a barrier)",
                "runtime", "operation", "version", "expected", "observed", "went wrong", "claim needs");

        ctx.progress(0.0, "JVM: the bytecode of count++");
        List<String> ops = bytecodesOf(PlainField.class, "increment");
        bytecode.row("JVM", "count++ (long field)", String.join(" ", ops));
        int get = ops.indexOf("getfield");
        int add = ops.indexOf("ladd");
        int put = ops.indexOf("putfield");
        ctx.claim(COUNT_BYTECODES, Verdict.check(get >= 0 && get < add && add < put,
                "PlainField.increment(): " + String.join(" ", ops)));

        ctx.progress(0.1, "JVM: forced lost update, atomics, ThreadLocal");
        List<Outcome> jvm = jvmSide(ctx, threads, rounds);
        Outcome plain = jvm.get(0);
        ctx.claim(COUNT_LOST, Verdict.check(plain.asClaimed(), plain.evidence()));
        judgeAll(ctx, ATOMIC_NO_LOSS, jvm.subList(1, 3));
        judgeAll(ctx, THREAD_LOCAL, jvm.subList(3, 5));
        jvm.forEach(o -> addRow(forced, o));

        ctx.progress(0.4, "CPython");
        List<String[]> freeRunning = new ArrayList<>();
        python(ctx, threads, bytecode, forced, freeRunning);
        for (String[] row : freeRunning) {
            forced.row((Object[]) row);
        }
        ctx.table(bytecode.build());
        ctx.table(forced.build());
        ctx.progress(1, "done");
    }

    private static void addRow(Table.Builder table, Outcome o) {
        table.row(o.runtime(), o.what(), o.version(), o.expected(), o.observed(),
                o.wrong() + " " + o.unit(), (o.broken() ? "Broken: exactly " : "exactly ") + o.needed());
    }

    private static void judgeAll(RunContext ctx, ClaimSpec claim, List<Outcome> outcomes) {
        boolean holds = outcomes.stream().allMatch(Outcome::asClaimed);
        ctx.claim(claim, Verdict.check(holds, String.join("; ", outcomes.stream().map(Outcome::evidence).toList())));
    }

    // ---- the JVM side ---------------------------------------------------------------------------------------

    /**
     * Not thread-safe on purpose: {@code count++} on a plain field. {@link #increment} is what the bytecode
     * claim reads; the forced race reads and writes {@link #count} directly, with a barrier in between.
     */
    static final class PlainField {
        long count;

        void increment() {
            count++;
        }
    }

    /** Thread-safe: {@code getAndAdd} through a {@link VarHandle} is one atomic read-modify-write. */
    static final class VarHandleCounter {
        private static final VarHandle COUNT;

        static {
            try {
                COUNT = MethodHandles.lookup().findVarHandle(VarHandleCounter.class, "count", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        @SuppressWarnings("unused") // accessed through COUNT
        private volatile long count;

        void increment() {
            COUNT.getAndAdd(this, 1L);
        }

        long get() {
            return count;
        }
    }

    /** A field every thread writes its index to, then reads back (volatile: the point is sharing, not visibility). */
    static final class SharedSlot {
        volatile int value;
    }

    private static List<Outcome> jvmSide(RunContext ctx, int threads, int rounds) throws Exception {
        long increments = (long) threads * rounds;
        long lostPerRun = (long) (threads - 1) * rounds;

        PlainField plain = new PlainField();
        together(ctx, threads, (t, meet) -> {
            for (int round = 0; round < rounds; round++) {
                long seen = plain.count; // getfield
                meet.await();            // every thread has read; none has written
                plain.count = seen + 1;  // ladd, putfield: every thread writes the same value
                meet.await();            // every write lands before the next round's read
            }
            return 0;
        });

        AtomicLong atomic = new AtomicLong();
        VarHandleCounter handle = new VarHandleCounter();
        together(ctx, threads, (t, meet) -> {
            for (int round = 0; round < rounds; round++) {
                meet.await(); // all released together: the worst moment for contention
                atomic.incrementAndGet();
                handle.increment();
            }
            return 0;
        });

        ThreadLocal<Integer> mine = new ThreadLocal<>();
        SharedSlot shared = new SharedSlot();
        long[][] foreign = new long[threads][];
        together(ctx, threads, (t, meet) -> {
            long localForeign = 0;
            long sharedForeign = 0;
            for (int round = 0; round < rounds; round++) {
                mine.set(t);
                shared.value = t;
                meet.await(); // every thread has written both; none has read
                if (mine.get() != t) {
                    localForeign++;
                }
                if (shared.value != t) {
                    sharedForeign++;
                }
                meet.await(); // every thread has read before any writes the next round
            }
            mine.remove();
            foreign[t] = new long[] {localForeign, sharedForeign};
            return 0;
        });
        long localForeign = Arrays.stream(foreign).mapToLong(f -> f[0]).sum();
        long sharedForeign = Arrays.stream(foreign).mapToLong(f -> f[1]).sum();

        return List.of(
                new Outcome("JVM", "count++ on a shared long", "Broken: read; barrier; write read + 1", true,
                        increments, plain.count, "updates lost", lostPerRun),
                new Outcome("JVM", "count++ on a shared long", "AtomicLong.incrementAndGet", false, increments,
                        atomic.get(), "updates lost", 0),
                new Outcome("JVM", "count++ on a shared long", "VarHandle.getAndAdd", false, increments,
                        handle.get(), "updates lost", 0),
                new Outcome("JVM", "write my index; barrier; read it back", "ThreadLocal<Integer>", false,
                        increments, increments - localForeign, "reads of another thread's value", 0),
                new Outcome("JVM", "write my index; barrier; read it back", "Broken (as TLS): a shared field", true,
                        increments, increments - sharedForeign, "reads of another thread's value", lostPerRun));
    }

    /** The opcode names of {@code method} in {@code type}'s class file, lower case, as javap prints them. */
    static List<String> bytecodesOf(Class<?> type, String method) throws IOException {
        String resource = "/" + type.getName().replace('.', '/') + ".class";
        byte[] bytes;
        try (InputStream in = type.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no class file " + resource);
            }
            bytes = in.readAllBytes();
        }
        ClassModel model = ClassFile.of().parse(bytes);
        MethodModel found = model.methods().stream()
                .filter(m -> m.methodName().equalsString(method))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(type.getName() + " has no method " + method));
        List<String> names = new ArrayList<>();
        for (CodeElement element : found.code().orElseThrow()) {
            if (element instanceof Instruction instruction) {
                names.add(instruction.opcode().name().toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    /** The rendezvous of one racing thread: returns once every thread of the race has called it. */
    @FunctionalInterface
    private interface Meet {
        void await() throws InterruptedException;
    }

    /** One racing thread's body. */
    @FunctionalInterface
    private interface Racer {
        long run(int thread, Meet meet) throws Exception;
    }

    /**
     * Runs {@code racer} on {@code threads} platform threads sharing one barrier, and waits for all. If one fails,
     * the others are interrupted (which breaks the barrier for all) and the failure is rethrown; a barrier not
     * reached within {@value #GIVE_UP_SECONDS} s fails the run rather than hanging it.
     */
    private static void together(RunContext ctx, int threads, Racer racer) throws Exception {
        ctx.checkCancelled();
        CyclicBarrier barrier = new CyclicBarrier(threads);
        Meet meet = () -> {
            try {
                barrier.await(GIVE_UP_SECONDS, TimeUnit.SECONDS);
            } catch (BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("a racing thread did not reach the barrier", e);
            }
        };
        try (ExecutorService pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("atomicity-", 0).factory())) {
            List<Future<Long>> futures = new ArrayList<>(threads);
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> racer.run(thread, meet)));
            }
            try {
                for (Future<Long> f : futures) {
                    f.get();
                }
            } catch (ExecutionException e) {
                pool.shutdownNow(); // the others may wait at the barrier for the thread that failed
                throw e.getCause() instanceof Exception cause ? cause : e;
            } catch (InterruptedException e) {
                pool.shutdownNow();
                throw e;
            }
        }
    }

    // ---- CPython ----------------------------------------------------------------------------------------------

    private static void python(RunContext ctx, int threads, Table.Builder bytecode, Table.Builder forced,
                               List<String[]> freeRunning) throws Exception {
        int rounds = ctx.intParam("py-rounds");
        ProbeOutcome outcome = PythonProbes.of(ctx).run("gil_atomicity.py", List.of(), Duration.ofMinutes(5),
                "--threads", Integer.toString(threads),
                "--rounds", Integer.toString(rounds),
                "--iterations", Integer.toString(ctx.intParam("py-iterations")));
        switch (outcome) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_BYTECODES, PY_LOCKSTEP_LOST, PY_LOCK,
                    PY_ONE_CALL, PY_THREAD_LOCAL);
            case ProbeOutcome.Ran ran -> {
                JsonNode json = ran.json();
                String version = "CPython " + ran.interpreter().version()
                        + (json.path("gil_enabled").asBoolean(true) ? "" : " (GIL disabled)");
                JsonNode dis = json.path("dis");
                String load = dis.path("load").asText("");
                String add = dis.path("add").asText("");
                String store = dis.path("store").asText("");
                List<String> ops = names(dis.path("augassign"));
                bytecode.row(version, "counter += 1 (global)", String.join(" ", ops))
                        .row(version, "shared_list.append(me)", String.join(" ", names(dis.path("append"))))
                        .row(version, "shared_dict[(me, rnd)] = me", String.join(" ", names(dis.path("setitem"))));
                int l = ops.indexOf(load);
                int a = ops.indexOf(add);
                int s = ops.indexOf(store);
                ctx.claim(PY_BYTECODES, Verdict.check(!load.isEmpty() && !add.isEmpty() && !store.isEmpty()
                        && l < a && a < s, version + " dis: " + String.join(" ", ops)));

                JsonNode lockstep = json.path("lockstep");
                long expected = lockstep.path("expected").asLong();
                long lost = (long) (threads - 1) * lockstep.path("rounds").asLong();
                JsonNode meetings = lockstep.path("meetings_per_call");
                Outcome plusEquals = new Outcome(version, "counter += 1 on a shared int",
                        "Broken: the real +=, threads meet before each of its " + meetings.path("plus_equals").asInt()
                                + " bytecodes", true, expected, lockstep.path("plus_equals").asLong(), "updates lost",
                        lost);
                JsonNode locked = json.path("locked");
                Outcome withLock = new Outcome(version, "counter += 1 on a shared int",
                        "barrier.wait(); with lock: counter += 1", false, locked.path("expected").asLong(),
                        locked.path("observed").asLong(), "updates lost", 0);
                List<Outcome> oneCall = List.of(
                        new Outcome(version, "one-bytecode mutation", "list.append, lockstep before each bytecode",
                                false, expected, lockstep.path("list_append").asLong(), "items lost", 0),
                        new Outcome(version, "one-bytecode mutation", "dict[k] = v, lockstep before each bytecode",
                                false, expected, lockstep.path("dict_setitem").asLong(), "items lost", 0),
                        new Outcome(version, "one-bytecode mutation", "deque.append, lockstep before each bytecode",
                                false, expected, lockstep.path("deque_append").asLong(), "items lost", 0));
                JsonNode tls = json.path("thread_local");
                long reads = tls.path("reads").asLong();
                long foreignNeeded = (long) (threads - 1) * tls.path("rounds").asLong();
                List<Outcome> local = List.of(
                        new Outcome(version, "write my index; barrier; read it back", "threading.local()", false,
                                reads, reads - tls.path("local_foreign").asLong(),
                                "reads of another thread's value", 0),
                        new Outcome(version, "write my index; barrier; read it back",
                                "Broken (as TLS): a shared object's attribute", true, reads,
                                reads - tls.path("shared_foreign").asLong(), "reads of another thread's value",
                                foreignNeeded));
                ctx.claim(PY_LOCKSTEP_LOST, Verdict.check(plusEquals.asClaimed(), plusEquals.evidence()));
                judgeAll(ctx, PY_LOCK, List.of(withLock));
                judgeAll(ctx, PY_ONE_CALL, oneCall);
                judgeAll(ctx, PY_THREAD_LOCAL, local);
                addRow(forced, plusEquals);
                addRow(forced, withLock);
                oneCall.forEach(o -> addRow(forced, o));
                local.forEach(o -> addRow(forced, o));

                JsonNode free = json.path("free_running");
                long freeExpected = free.path("expected").asLong();
                String how = free.path("threads").asInt() + " threads, no barrier, switch interval "
                        + json.path("switch_interval").asDouble() * 1e3 + " ms";
                freeRunning.add(new String[] {version, "free-running counter += 1", how,
                        Long.toString(freeExpected), free.path("plus_equals").asText(),
                        (freeExpected - free.path("plus_equals").asLong()) + " updates lost",
                        "no claim: depends on where the interpreter may switch"});
                freeRunning.add(new String[] {version, "free-running list.append", how,
                        Long.toString(freeExpected), free.path("list_append").asText(),
                        (freeExpected - free.path("list_append").asLong()) + " items lost",
                        "no claim"});
            }
        }
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }
}
