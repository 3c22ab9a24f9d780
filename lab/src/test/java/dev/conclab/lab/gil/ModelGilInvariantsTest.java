package dev.conclab.lab.gil;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model GIL's invariants, checked on the events of real runs (real threads, real time): one holder at a time,
 * every drop request answered within a step, a waiter served within about one switch interval when the holder
 * computes, and no immediate re-take with forced switching.
 */
class ModelGilInvariantsTest {

    private static final long INTERVAL_MICROS = 2_000;
    private static final long STEP_MICROS = 100;
    private static final GilConfig CONFIG = GilConfig.cpython().withInterval(INTERVAL_MICROS);

    /** Three CPU-bound threads and one that blocks now and then, all under one GIL. */
    private static GilRun busyRun(GilConfig config) throws InterruptedException {
        GilRecorder recorder = new GilRecorder();
        Step.Count step = Step.Count.forMicros(STEP_MICROS);
        return new ModelInterpreter(config).run(List.of(
                Script.repeat("cpu-a", 300, step),
                Script.repeat("cpu-b", 300, step),
                Script.of("cpu-c", new Step.ComputeUntil(() -> recorder.exited("io"), STEP_MICROS, 10_000_000)),
                Script.repeat("io", 10, new Step.Block(500), new Step.Spin(50))), recorder);
    }

    @Test
    void neverTwoHoldersAtOnce() throws InterruptedException {
        for (GilConfig config : List.of(CONFIG, CONFIG.withoutForcedSwitching())) {
            GilRun run = busyRun(config);

            // Strict alternation: after a take, the next take or drop is the same thread's drop.
            String holder = null;
            for (GilEvent event : run.events()) {
                switch (event) {
                    case GilEvent.Take t -> {
                        assertThat(holder).as("take by %s while %s holds the GIL", t.thread(), holder).isNull();
                        holder = t.thread();
                    }
                    case GilEvent.Drop d -> {
                        assertThat(d.thread()).as("drop by a thread that does not hold the GIL").isEqualTo(holder);
                        holder = null;
                    }
                    default -> {
                    }
                }
            }
            assertThat(holder).as("the GIL is free at the end").isNull();
            List<GilRun.Hold> holds = run.holds();
            assertThat(holds).hasSizeGreaterThan(10);
            for (int i = 1; i < holds.size(); i++) {
                assertThat(holds.get(i).fromNanos()).as("hold %d begins after hold %d ends", i, i - 1)
                        .isGreaterThanOrEqualTo(holds.get(i - 1).toNanos());
            }
            assertThat(run.overlappingHolds()).isZero();
            assertThat(run.dropRequests()).as("CPU-bound threads make waiters ask").isPositive();
        }
    }

    @Test
    void everyDropRequestIsAnsweredWithinOneStep() throws InterruptedException {
        GilRun run = busyRun(CONFIG);
        List<GilEvent> events = run.events();
        int checked = 0;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) instanceof GilEvent.DropRequest request) {
                GilEvent.Drop drop = nextDropBy(events, i, request.holder());
                assertThat(drop).as("a drop by %s after %s", request.holder(), request).isNotNull();
                assertThat(drop.steps() - request.holderSteps()).as("steps from %s to %s", request, drop)
                        .isBetween(0L, 1L);
                // Generous: one step of work plus a loaded machine's scheduling delays.
                assertThat(drop.nanos() - request.nanos()).isLessThan(STEP_MICROS * 1_000 + 200_000_000L);
                checked++;
            }
        }
        assertThat(checked).isPositive();
    }

    private static GilEvent.Drop nextDropBy(List<GilEvent> events, int from, String thread) {
        for (int j = from + 1; j < events.size(); j++) {
            if (events.get(j) instanceof GilEvent.Drop d && d.thread().equals(thread)) {
                return d;
            }
        }
        return null;
    }

    @Test
    void aWaiterGetsTheGilWithinAboutOneIntervalWhenTheHolderComputes() throws InterruptedException {
        GilRecorder recorder = new GilRecorder();
        // Without drop requests the I/O thread would wait until this holder stopped: 10 s.
        Script cpu = Script.of("cpu", new Step.ComputeUntil(() -> recorder.exited("io"), STEP_MICROS, 10_000_000));
        Script io = Script.repeat("io", 30, new Step.Block(1_000), new Step.Spin(50));
        GilRun run = new ModelInterpreter(CONFIG).run(List.of(cpu, io), recorder);

        List<GilRun.WakeUp> wakeUps = run.wakeUps("io");
        assertThat(wakeUps).hasSize(30);
        // A wake-up that found the GIL free (the CPU-bound thread not yet scheduled again) proves nothing here.
        List<Long> waits = new ArrayList<>(wakeUps.stream().filter(GilRun.WakeUp::foundHeld)
                .map(GilRun.WakeUp::waitNanos).toList());
        assertThat(waits).as("wake-ups that found the GIL held").hasSizeGreaterThan(10);
        waits.sort(null);
        long oneIntervalAndAStep = (INTERVAL_MICROS + STEP_MICROS) * 1_000;
        assertThat(waits.get(waits.size() / 2)).as("median wait, ns").isLessThan(2 * oneIntervalAndAStep)
                // The waiter waits a whole interval before it asks: it cannot be served much sooner.
                .isGreaterThan(oneIntervalAndAStep / 2);
        assertThat(waits.getLast()).as("longest wait, ns").isLessThan(oneIntervalAndAStep + 200_000_000L);
        assertThat(run.wallMillis()).isLessThan(10_000);
    }

    /** A holder computes until the waiter has the GIL or has asked four times; the waiter is woken late. */
    private static GilRun lateWaiter(GilConfig config) throws InterruptedException {
        GilRecorder recorder = new GilRecorder();
        Script holder = Script.of("holder", new Step.ComputeUntil(
                () -> recorder.takes("waiter") > 0 || recorder.dropRequests("waiter") >= 4, STEP_MICROS,
                10_000_000));
        return new ModelInterpreter(config.withWakeups(GilConfig.Wakeups.LATE))
                .run(List.of(holder, Script.of("waiter", new Step.Spin(STEP_MICROS))), recorder);
    }

    @Test
    void forcedSwitchingPreventsAnImmediateRetakeEvenWhenTheWaiterIsLate() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            GilRun forced = lateWaiter(CONFIG);
            assertThat(forced.immediateRetakes()).isZero();
            assertThat(firstTakeIndex(forced, "waiter")).as("waiter served while the holder computes")
                    .isLessThan(exitIndex(forced, "holder"));

            GilRun broken = lateWaiter(CONFIG.withoutForcedSwitching());
            assertThat(broken.immediateRetakes()).as("re-takes without forced switching").isPositive();
            assertThat(firstTakeIndex(broken, "waiter")).as("waiter starved until the holder stops")
                    .isGreaterThan(exitIndex(broken, "holder"));
        }
        assertThat(busyRun(CONFIG).immediateRetakes()).as("as scheduled, with forced switching").isZero();
    }

    private static int firstTakeIndex(GilRun run, String thread) {
        List<GilEvent> events = run.events();
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) instanceof GilEvent.Take t && t.thread().equals(thread)) {
                return i;
            }
        }
        throw new AssertionError(thread + " never took the GIL");
    }

    private static int exitIndex(GilRun run, String thread) {
        List<GilEvent> events = run.events();
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) instanceof GilEvent.Drop d && d.thread().equals(thread)
                    && d.reason() == GilEvent.DropReason.EXIT) {
                return i;
            }
        }
        throw new AssertionError(thread + " never exited");
    }
}
