package dev.conclab.toolkit.loop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loop futures and tasks: done callbacks never inline, tasks start only when the loop gets to them, cancellation. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TaskTest {

    /** A coroutine that logs "name:step" at each resume and awaits {@code futures} one after another. */
    private static Coroutine<String> logging(String name, List<String> log, List<LoopFuture<?>> futures) {
        return new Coroutine<>() {
            private int state;

            @Override
            public Step<String> resume(Outcome<?> in) {
                in.orThrow();
                log.add(name + ":" + state);
                if (state < futures.size()) {
                    return Step.await(futures.get(state++));
                }
                return Step.done(name + " done");
            }
        };
    }

    @Test
    void doneCallbacksAreScheduledNeverRunInline() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<Integer> future = loop.createFuture("f");
            List<String> log = new ArrayList<>();
            future.addDoneCallback(f -> log.add("callback saw " + f.result()));
            LoopFuture<Void> done = loop.createFuture();
            loop.callSoon(() -> {
                future.setResult(42);
                log.add("setResult returned");
                // already done: still scheduled, not run here
                future.addDoneCallback(f -> {
                    log.add("late callback");
                    done.setResult(null);
                });
                log.add("addDoneCallback returned");
            });
            loop.runUntilComplete(done);
            assertThat(log).containsExactly("setResult returned", "addDoneCallback returned", "callback saw 42",
                    "late callback");
            assertThatThrownBy(() -> future.setResult(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already done");
            assertThat(future.cancel()).isFalse();
        }
    }

    @Test
    void aFutureEndsOnceWithAValueAnExceptionOrACancellation() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<String> pending = loop.createFuture("pending");
            assertThatThrownBy(pending::result).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not done");
            LoopFuture<String> failed = loop.createFuture();
            failed.setException(new IllegalArgumentException("bad"));
            assertThat(failed.exception()).hasMessage("bad");
            assertThatThrownBy(failed::result).isInstanceOf(IllegalArgumentException.class);
            assertThat(pending.cancel()).isTrue();
            assertThat(pending.isCancelled()).isTrue();
            assertThatThrownBy(pending::result).isInstanceOf(CancellationException.class);
            assertThatThrownBy(pending::exception).isInstanceOf(CancellationException.class);
            assertThat(pending.outcome().isCancellation()).isTrue();
        }
    }

    @Test
    void creatingATaskDoesNotRunIt() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> log = new ArrayList<>();
            Task<String> task = loop.createTask("t", logging("t", log, List.of()));
            assertThat(log).as("nothing runs before the loop does").isEmpty();
            assertThat(task.isDone()).isFalse();
            assertThat(loop.runUntilComplete(task)).isEqualTo("t done");
            assertThat(log).containsExactly("t:0");
        }
    }

    @Test
    void tasksInterleaveOnlyAtTheirAwaits() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> log = new ArrayList<>();
            Task<String> a = loop.createTask("a", logging("a", log,
                    List.of(loop.sleep(Duration.ZERO), loop.sleep(Duration.ZERO))));
            Task<String> b = loop.createTask("b", logging("b", log,
                    List.of(loop.sleep(Duration.ZERO), loop.sleep(Duration.ZERO))));
            loop.runUntilComplete(b);
            assertThat(a.result()).isEqualTo("a done");
            // Each resume runs to its await without the other task running in between.
            assertThat(log).containsExactly("a:0", "b:0", "a:1", "b:1", "a:2", "b:2");
        }
    }

    @Test
    void aTaskAwaitingATaskGetsItsResult() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            Task<String> inner = loop.createTask("inner", in -> Step.done("inner value"));
            Task<String> outer = loop.createTask("outer", new Coroutine<>() {
                private boolean awaited;

                @Override
                public Step<String> resume(Outcome<?> in) {
                    if (!awaited) {
                        awaited = true;
                        return Step.await(inner);
                    }
                    assertThat(loop.currentTask().name()).isEqualTo("outer");
                    return Step.done("outer got " + in.orThrow());
                }
            });
            assertThat(loop.runUntilComplete(outer)).isEqualTo("outer got inner value");
            assertThat(loop.currentTask()).isNull();
        }
    }

    @Test
    void anExceptionEndsTheTaskAndIsThrownByRunUntilComplete() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            Task<String> task = loop.createTask("failing", in -> {
                throw new java.io.IOException("no route");
            });
            assertThatThrownBy(() -> loop.runUntilComplete(task)).isInstanceOf(java.util.concurrent
                    .CompletionException.class).hasRootCauseMessage("no route");
            assertThat(task.exception()).hasMessage("no route");
            assertThatThrownBy(() -> task.setResult("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("set by its coroutine");
        }
    }

    @Test
    void cancellingATaskDeliversCancellationAtItsNextResume() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            LoopFuture<String> never = loop.createFuture("never");
            List<String> log = new ArrayList<>();
            Task<String> task = loop.createTask("sleeper", new Coroutine<>() {
                private int state;

                @Override
                public Step<String> resume(Outcome<?> in) {
                    log.add("resume " + state + (in.isCancellation() ? " with cancellation" : ""));
                    if (state++ == 0) {
                        return Step.await(never);
                    }
                    in.orThrow(); // lets the CancellationException propagate, like an uncaught CancelledError
                    return Step.done("unreachable");
                }
            });
            loop.callSoon(() -> {
                assertThat(task.isAwaiting()).isTrue();
                assertThat(task.cancel()).isTrue();
                log.add("cancel requested; cancelled yet: " + task.isCancelled());
            });
            assertThatThrownBy(() -> loop.runUntilComplete(task)).isInstanceOf(CancellationException.class);
            assertThat(log).containsExactly("resume 0", "cancel requested; cancelled yet: false",
                    "resume 1 with cancellation");
            assertThat(task.isCancelled()).isTrue();
            assertThat(never.isCancelled()).as("the awaited future is cancelled too").isTrue();
        }
    }

    @Test
    void aTaskCancelledBeforeItStartsSeesTheCancellationAtItsFirstResume() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            List<String> log = new ArrayList<>();
            Task<String> task = loop.createTask("early", in -> {
                log.add(in.isCancellation() ? "first resume: cancelled" : "first resume: start");
                in.orThrow();
                return Step.done("ran");
            });
            assertThat(task.cancel()).isTrue();
            assertThatThrownBy(() -> loop.runUntilComplete(task)).isInstanceOf(CancellationException.class);
            assertThat(log).containsExactly("first resume: cancelled");
        }
    }

    @Test
    void aCoroutineMayCatchTheCancellationAndFinish() {
        try (SelectorEventLoop loop = SelectorEventLoop.create()) {
            Task<String> task = loop.createTask("stubborn", new Coroutine<>() {
                private boolean started;

                @Override
                public Step<String> resume(Outcome<?> in) {
                    if (!started) {
                        started = true;
                        return Step.await(loop.sleep(Duration.ofHours(1)));
                    }
                    return Step.done(in.isCancellation() ? "cleaned up after cancel" : "slept an hour");
                }
            });
            loop.callSoon(task::cancel);
            assertThat(loop.runUntilComplete(task)).isEqualTo("cleaned up after cancel");
            assertThat(task.isCancelled()).isFalse();
        }
    }
}
