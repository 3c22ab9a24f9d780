package dev.conclab.jobs.dag;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A DAG with its lookups computed once (task by id, leaves) for the scheduler's rounds. Immutable. */
record DagShape(Dag dag, Map<String, DagTask> byId, List<String> leaves) {

    static DagShape of(Dag dag) {
        Map<String, DagTask> byId = new LinkedHashMap<>();
        dag.tasks().forEach(t -> byId.put(t.id(), t));
        return new DagShape(dag, Map.copyOf(byId), dag.leaves());
    }
}
