package dev.conclab.jobs.dag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a set of tasks is a DAG and orders it: every upstream id names a task, and there is no cycle (the error
 * names one, e.g. {@code a -> b -> c -> a}). Stateless; thread-safe.
 */
final class DagGraph {

    private DagGraph() {
    }

    /**
     * The tasks in a topological order (upstream before downstream; ties in declaration order).
     *
     * @throws IllegalArgumentException on an unknown upstream id or a cycle
     */
    static List<DagTask> topologicalOrder(String dagId, Map<String, DagTask> tasks) {
        for (DagTask task : tasks.values()) {
            for (String up : task.upstream()) {
                if (!tasks.containsKey(up)) {
                    throw new IllegalArgumentException("dag " + dagId + ": task " + task.id()
                            + " has unknown upstream task '" + up + "'");
                }
            }
        }
        // Depth-first search; a node met again while on the stack closes a cycle.
        Map<String, Integer> mark = new HashMap<>(); // absent: new, 1: on stack, 2: done
        List<DagTask> order = new ArrayList<>(tasks.size());
        for (String start : tasks.keySet()) {
            if (mark.containsKey(start)) {
                continue;
            }
            List<String> stack = new ArrayList<>();
            List<Integer> next = new ArrayList<>();
            stack.add(start);
            next.add(0);
            mark.put(start, 1);
            while (!stack.isEmpty()) {
                int top = stack.size() - 1;
                DagTask task = tasks.get(stack.get(top));
                int i = next.get(top);
                if (i < task.upstream().size()) {
                    next.set(top, i + 1);
                    String up = task.upstream().get(i);
                    Integer m = mark.get(up);
                    if (m == null) {
                        mark.put(up, 1);
                        stack.add(up);
                        next.add(0);
                    } else if (m == 1) {
                        throw new IllegalArgumentException("dag " + dagId + " has a cycle: "
                                + describeCycle(stack, up));
                    }
                } else {
                    mark.put(task.id(), 2);
                    order.add(task);
                    stack.remove(top);
                    next.remove(top);
                }
            }
        }
        return order;
    }

    /** The stack follows upstream edges; the cycle read downstream is the reverse, from {@code up} round to it. */
    private static String describeCycle(List<String> stack, String up) {
        List<String> cycle = new ArrayList<>(stack.subList(stack.indexOf(up), stack.size()));
        Collections.reverse(cycle);
        cycle.addFirst(cycle.getLast());
        return String.join(" -> ", cycle);
    }

    /** Downstream ids per task id. */
    static Map<String, List<String>> downstream(Map<String, DagTask> tasks) {
        Map<String, List<String>> down = new LinkedHashMap<>();
        tasks.keySet().forEach(id -> down.put(id, new ArrayList<>()));
        tasks.values().forEach(t -> t.upstream().forEach(up -> down.get(up).add(t.id())));
        return down;
    }
}
