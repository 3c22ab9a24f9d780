package dev.conclab.lab.web;

import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Runner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The run manager without HTTP: atomic admission under contention, and how many ended runs it keeps. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RunManagerTest {

    @Test
    void requestsRacingForOneExperimentStartItOnce() throws Exception {
        TestExperiments.Blocking blocking = new TestExperiments.Blocking("test-block-a", Duration.ofSeconds(60));
        blocking.nextLatch();
        int racers = 8;
        try (RunManager runs = manager(List.of(blocking), 4);
             ExecutorService pool = Executors.newFixedThreadPool(racers)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Admission>> answers = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                answers.add(pool.submit(() -> {
                    go.await();
                    return runs.start("test-block-a", Map.of(), true);
                }));
            }
            go.countDown();
            List<Admission> all = new ArrayList<>();
            for (Future<Admission> answer : answers) {
                all.add(answer.get());
            }

            assertThat(all).filteredOn(a -> a instanceof Admission.Started).hasSize(1);
            assertThat(all).filteredOn(a -> a instanceof Admission.Refused r
                    && r.reason() == Admission.Reason.ALREADY_RUNNING).hasSize(racers - 1);
            assertThat(runs.runningCount()).isEqualTo(1);
        }
    }

    @Test
    void theLatestFiftyEndedRunsAreKept() throws Exception {
        TestExperiments.Steps steps = new TestExperiments.Steps("test-steps");
        steps.nextLatch().countDown(); // every run goes straight through
        try (RunManager runs = manager(List.of(steps), 1)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i <= RunManager.KEPT; i++) {
                Admission admission = runs.start("test-steps", Map.of(), true);
                WebRun run = ((Admission.Started) admission).run();
                run.finished().get(30, TimeUnit.SECONDS);
                ids.add(run.id());
            }

            assertThat(runs.run(ids.getFirst())).as("the oldest of " + ids.size()).isEmpty();
            assertThat(ids.subList(1, ids.size())).allMatch(id -> runs.run(id).isPresent());
            assertThat(ids).doesNotHaveDuplicates();
        }
    }

    @Test
    void theCapIsAtLeastOne() {
        assertThatThrownBy(() -> manager(List.of(), 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the run cap must be at least 1, not 0");
    }

    private static RunManager manager(List<Experiment> experiments, int cap) {
        Map<String, Experiment> byId = new LinkedHashMap<>();
        experiments.forEach(e -> byId.put(e.id(), e));
        return new RunManager(new Runner(Optional.empty()), byId, cap);
    }
}
