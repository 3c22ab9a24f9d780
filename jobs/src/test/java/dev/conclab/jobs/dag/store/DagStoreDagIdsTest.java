package dev.conclab.jobs.dag.store;

import dev.conclab.jobs.dag.DagRunState;
import dev.conclab.jobs.dag.RunType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link DagStore#dagIds}: every DAG with runs, the newest run's DAG first, bounded, and reading only. */
class DagStoreDagIdsTest {

    @TempDir
    Path dir;

    @Test
    void listsEveryDagWithRunsNewestRunFirstBounded() {
        try (DagStore store = DagStore.open(dir.resolve("dags.db"))) {
            assertThat(store.dagIds(10)).isEmpty();
            store.createRun(run("alpha", "a1", 1_000, 1), List.of("t"));
            store.createRun(run("beta", "b1", 3_000, 2), List.of("t"));
            store.createRun(run("alpha", "a2", 5_000, 3), List.of("t"));
            store.createRun(run("gamma", "g1", 3_000, 9), List.of("t"));
            store.createRun(run("delta", "d1", 3_000, 9), List.of("t"));

            assertThat(store.dagIds(10)).as("newest logical date, then newest creation, then id")
                    .containsExactly("alpha", "delta", "gamma", "beta");
            assertThat(store.dagIds(2)).containsExactly("alpha", "delta");
            assertThat(store.dagIds(0)).isEmpty();
            assertThat(store.runs("alpha")).hasSize(2);
            assertThat(store.dagIds(10)).as("reading changes nothing").containsExactly("alpha", "delta", "gamma",
                    "beta");
            assertThatThrownBy(() -> store.dagIds(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("limit must be >= 0, got -1");
        }
    }

    private static DagRun run(String dagId, String suffix, long logicalMillis, long createdMillis) {
        return new DagRun(dagId + "/manual__" + suffix, dagId, RunType.MANUAL, Instant.ofEpochMilli(logicalMillis),
                DagRunState.QUEUED, "{}", createdMillis, 0, 0);
    }
}
