"""A DAG run the standard-library way: graphlib.TopologicalSorter feeding a thread pool.

``graphlib`` (Python 3.9+) was made for this loop: ``prepare()``, then ``get_ready()`` for the tasks whose
dependencies are all done, ``done(task)`` as each finishes, until ``is_active()`` is false. The probe builds a
fan-out/fan-in DAG (one root, ``--layers`` layers of ``--width`` tasks each, every task of a layer depending on
one task of the layer before, and one join at the end), runs it on a ``ThreadPoolExecutor`` of ``--concurrency``
threads with tasks that sleep ``--task-ms``, and reports the makespan beside the two lower bounds no scheduler can
beat: the critical path, and the total work divided by the concurrency. It also shows the error a cycle gives.

Prints one JSON object.
"""

import argparse
import concurrent.futures as cf
import graphlib
import time

from probelib import emit, positive_int


def build(width, layers):
    """graph[node] = set of its predecessors, as TopologicalSorter takes it."""
    graph = {"root": set()}
    previous = ["root"] * width
    for layer in range(layers):
        current = [f"t{layer}_{i}" for i in range(width)]
        for i, node in enumerate(current):
            graph[node] = {previous[i]}
        previous = current
    graph["join"] = set(previous)
    return graph


def run(graph, concurrency, task_s):
    def task(node):
        started = time.perf_counter()
        time.sleep(task_s)
        return node, started, time.perf_counter()

    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    spans = {}
    begin = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=concurrency) as pool:
        running = set()
        while sorter.is_active():
            for node in sorter.get_ready():
                running.add(pool.submit(task, node))
            finished, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                node, started, ended = future.result()
                spans[node] = (started - begin, ended - begin)
                sorter.done(node)
    makespan = time.perf_counter() - begin
    return makespan, spans


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=positive_int, default=20)
    parser.add_argument("--layers", type=positive_int, default=3)
    parser.add_argument("--concurrency", type=positive_int, default=8)
    parser.add_argument("--task-ms", type=positive_int, default=20)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()

    graph = build(args.width, args.layers)
    task_s = args.task_ms / 1000
    tasks = len(graph)
    critical_path = (args.layers + 2) * task_s       # root, each layer, join
    work_bound = tasks * task_s / args.concurrency
    best = None
    for _ in range(args.repeat):
        makespan, spans = run(graph, args.concurrency, task_s)
        if best is None or makespan < best[0]:
            best = (makespan, spans)
    makespan, spans = best
    order_ok = all(spans[p][1] <= spans[n][0] for n, preds in graph.items() for p in preds)

    try:
        graphlib.TopologicalSorter({"a": {"c"}, "b": {"a"}, "c": {"b"}}).prepare()
        cycle = None
    except graphlib.CycleError as e:
        cycle = {"message": e.args[0], "nodes": e.args[1]}

    emit({"tasks": tasks, "width": args.width, "layers": args.layers, "concurrency": args.concurrency,
          "task_ms": args.task_ms, "makespan_s": makespan, "critical_path_s": critical_path,
          "work_bound_s": work_bound, "lower_bound_s": max(critical_path, work_bound),
          "dependencies_respected": order_ok, "cycle_error": cycle})


if __name__ == "__main__":
    main()
