"""Benchmark 5: deriving a computation graph (issue #13) through the public API, cold caches.

Random graphs of N nodes (sums, products, tanh and exp of nodes in a window of recent names, so that
names are used several times and paths fan out and in), given to `sbp.open_problem` as a dict spec:
the time to read the spec (formulas parsed by our grammar) and to derive every adjoint, per node,
and the log-log slope of derivation time against nodes (linear is 1). Side by side on a small graph:
`sympy.diff` of the fully composed loss by every leaf, the naive way the engine avoids.

    python -m benchmarks.bench_graphs [--quick]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import arguments, cold_sympy, heading, loglog_slope, median, ratio, seconds, table  # noqa: E402

OPERATIONS = ("{} + {}", "{} * {}", "tanh({})", "exp({} * 0.01)")


def random_graph(nodes: int, seed: int = 13) -> dict:
    """A graph spec of `nodes` nodes over two leaves; each node uses names from the last ten."""
    generator = random.Random(seed)
    names, formulas = ["x0", "x1"], {}
    for k in range(nodes):
        window = names[-10:]
        formulas[f"n{k}"] = generator.choice(OPERATIONS).format(generator.choice(window), generator.choice(window))
        names.append(f"n{k}")
    return {"name": f"random {nodes}", "values": {"x0": "0.5", "x1": "-0.25"}, "nodes": formulas,
            "loss": names[-1]}


def timed(spec: dict, repeats: int) -> tuple[float, float]:
    """Median seconds to read the spec and to derive every adjoint, each run from cold caches."""
    import symbackprop as sbp

    reads, derives = [], []
    for _ in range(repeats):
        cold_sympy()
        start = time.perf_counter()
        problem = sbp.open_problem(spec)
        middle = time.perf_counter()
        problem.derived
        reads.append(middle - start)
        derives.append(time.perf_counter() - middle)
    return median(reads), median(derives)


def naive(spec: dict) -> float:
    """Seconds for sympy.diff of the composed loss by every leaf (the graph read beforehand)."""
    from sympy import diff

    import symbackprop as sbp

    graph = sbp.open_problem(spec).graph
    cold_sympy()
    start = time.perf_counter()
    loss = graph.loss
    for symbol, expression in reversed(graph.forward_definitions()):
        loss = loss.xreplace({symbol: expression})
    for leaf in graph.leaves:
        diff(loss, leaf)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv)
    heading("benchmark 5: computation graphs, derived through sbp.open_problem", args.quick)
    sizes = [30, 100, 300] if args.quick else [100, 1000, 10000]
    repeats = 1 if args.quick else 3
    rows, derive_times = [], []
    for size in sizes:
        read, derive = timed(random_graph(size), repeats)
        derive_times.append(derive)
        rows.append([str(size), seconds(read), seconds(derive), f"{1000 * derive / size:.3f} ms"])
    table(["nodes", "read the spec", "derive", "derive per node"], rows)
    print(f"slope: log-log graph derivation time against nodes = {loglog_slope(sizes, derive_times):.2f}"
          "  (issue #13 target: at most 1.1)", flush=True)
    print(f"per node: graph derivation at {sizes[-1]} nodes = {1000 * derive_times[-1] / sizes[-1]:.3f} ms"
          "  (issue #13 target: at most 0.05 ms at 100,000 nodes)", flush=True)
    small = random_graph(25)
    ratio("naive sympy.diff / graph derivation (25 nodes)", naive(small), timed(small, repeats)[1])


if __name__ == "__main__":
    main()
