"""Benchmark 6: training a computation graph: compiled steps against the exact uncompiled step, and memory.

On one random graph of bounded values (tanh, σ, averages and products of numbers below 1), one step of
gradient descent by the compiled double loop (`train --fast`), the compiled mpmath loop (`train`) and the
exact path evaluated from the derivation's expressions without compiling (`numbers.graph_training.exact_step`,
what the tests compare the compiled loops with). Then, in a fresh process per size, the peak resident
memory of reading, deriving and compiling a graph (issue #13: under 1 GiB at 100,000 nodes).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, arguments, heading, interleaved, median, peak_rss_mib, ratio, seconds, table  # noqa: E402

OPERATIONS = ("tanh({} + {})", "{} \\cdot {}", "sigma({})", "({} + {})/2")
STEPS = 50


def tame_graph(nodes: int, seed: int = 7) -> dict:
    """A graph spec of `nodes` nodes over four trainable leaves; each node uses names from the last ten, and
    every value stays below 1 in size, so that training neither overflows nor vanishes."""
    generator = random.Random(seed)
    names, formulas = ["x0", "x1", "x2", "x3"], {}
    for k in range(nodes):
        window = names[-10:]
        formulas[f"n{k}"] = generator.choice(OPERATIONS).format(generator.choice(window), generator.choice(window))
        names.append(f"n{k}")
    return {"name": f"tame {nodes}", "values": {"x0": "0.5", "x1": "-0.25", "x2": "0.75", "x3": "-0.5"},
            "nodes": formulas, "loss": names[-1], "learning_rate": "0.1"}


def memory(nodes: int) -> dict:
    """Peak memory (MiB) before, after reading and deriving, and after compiling the double loop, in this process."""
    from symbackprop.graph_problem import GraphProblem
    from symbackprop.numbers.graph_training import compiled_graph_training

    before = peak_rss_mib()
    problem = GraphProblem(tame_graph(nodes))
    problem.derived
    derived = peak_rss_mib()
    compiled_graph_training(problem.derived, "math")
    return {"before": before, "derived": derived, "compiled": peak_rss_mib()}


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv)
    heading("benchmark 6: training a computation graph", args.quick)
    from symbackprop.graph_problem import GraphProblem
    from symbackprop.numbers.graph_training import compiled_graph_training, exact_start, exact_step, train_graph

    size = 100 if args.quick else 1000
    problem = GraphProblem(tame_graph(size))
    loops = {backend: compiled_graph_training(problem.derived, backend) for backend in ("math", "mpmath")}

    def exact() -> object:
        leaves = exact_start(problem.derived)
        for _ in range(STEPS):
            _loss, leaves = exact_step(problem.derived, leaves)
        return leaves

    contenders = {f"compiled {backend}": (lambda backend=backend: train_graph(
        problem.derived, STEPS, backend, every=STEPS, compiled=loops[backend])) for backend in loops}
    contenders["exact, uncompiled"] = exact
    times, results = interleaved(contenders, 1 if args.quick else 3, clock=time.process_time)
    per_step = {name: median(runs) / STEPS for name, runs in times.items()}
    table(["contender", f"one step ({size} nodes, CPU time)"], [[name, seconds(value)] for name, value in per_step.items()])
    ratio("exact uncompiled step / compiled mpmath step", per_step["exact, uncompiled"], per_step["compiled mpmath"])
    ratio("compiled mpmath step / compiled double step", per_step["compiled mpmath"], per_step["compiled math"])
    trained = {name: float(results[f"compiled {name}"].error) for name in loops}
    print(f"loss after {STEPS} steps: double {trained['math']:.15g}, mpmath {trained['mpmath']:.15g}", flush=True)

    rows = []
    for nodes in ([300, 1000] if args.quick else [1000, 10000, 100000]):
        done = subprocess.run([sys.executable, "-c", "import json, sys; from benchmarks.bench_graph_training "
                               f"import memory; print(json.dumps(memory({nodes})))"], cwd=ROOT, capture_output=True,
                              text=True, check=True)
        peak = json.loads(done.stdout)
        rows.append([f"{nodes:,}", f"{peak['derived'] - peak['before']:.0f} MiB", f"{peak['compiled']:.0f} MiB",
                     f"{1024 * (peak['compiled'] - peak['before']) / nodes:.1f} KiB"])
    table(["nodes", "read and derive", "peak after compiling", "per node"], rows)
    print(f"memory: peak RSS after deriving and compiling {rows[-1][0]} nodes = {rows[-1][2]}"
          "  (issue #13 target: under 1 GiB at 100,000 nodes)", flush=True)


if __name__ == "__main__":
    main()
