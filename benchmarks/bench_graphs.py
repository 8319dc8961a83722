"""Benchmark 5: computation graphs (issue #13) from 100 to 100,000 nodes, through what a user runs.

Random graphs of N nodes (averages, products, tanh and exp of the name before and of one among the
last ten, so that every node reaches the loss, names are used several times and paths fan out and in;
the values stay between about -1 and 1.1),
written to a JSON spec file and opened with `sbp.open_problem(path)`, each size in a fresh process
(so each peak memory is its own, and nothing is cached): the CPU time to read the spec, to derive
every adjoint (the topological order included), to evaluate every name at 50 digits, and to check
the adjoints by mpmath finite differences (sampled above 1,000 adjoints, as the library does); the
peak resident memory (VmHWM) after each stage; the log-log slope of derivation time against nodes.

Side by side in the same process, on the same graph (built from its list of operations, not read
from the spec): a micrograd-style scalar autograd (the `Value` class below, our own ~40 lines) and
PyTorch (0-d float64 tensors on the CPU, one thread; skipped with a note when torch is not
installed), one forward and backward pass each, the garbage collector paused as symbackprop pauses
it while it derives. Their gradients of the leaves must agree with ours (a constant leaf
joins every 100 nodes, so that some gradients are far from underflow). Also, on a
small graph, `sympy.diff` of the fully composed loss by every leaf, the naive way the engine avoids.

    python -m benchmarks.bench_graphs [--quick] [--sizes 100,1000]
"""

from __future__ import annotations

import gc
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT, arguments, cold_sympy, heading, loglog_slope, peak_rss_mib, ratio, seconds, table, torch_or_none,
)

OPERATIONS = ("average", "product", "tanh", "exp")
FORMULAS = {"average": "({} + {}) / 2", "product": "{} * {}", "tanh": "tanh({})", "exp": "exp({} * 0.01)"}
TRAINABLE = {"a": 0.5, "b": -0.25}
CONSTANT_EVERY = 100
"""A constant leaf joins the names every this many nodes, so that leaves near the loss have gradients far
from underflow to compare with the contenders'."""


def random_operations(nodes: int, seed: int = 13) -> tuple[dict[str, float], list[tuple[str, str, str]]]:
    """The leaves and their values; node k is (operation, first input, second input): the name before it
    (so every node reaches the loss) and one among the last ten (a unary operation uses the first)."""
    generator = random.Random(seed)
    leaves, operations = dict(TRAINABLE), []
    names = list(leaves)
    for k in range(nodes):
        if k % CONSTANT_EVERY == CONSTANT_EVERY // 2:
            constant = f"c{k // CONSTANT_EVERY}"
            names.insert(-1, constant)  # among the last ten, not in place of the node before
            leaves[constant] = round(generator.uniform(-1, 1), 2)
        operations.append((generator.choice(OPERATIONS), names[-1], generator.choice(names[-10:])))
        names.append(f"n{k}")
    return leaves, operations


def random_graph(nodes: int, seed: int = 13) -> dict:
    """The graph spec of `random_operations`: `TRAINABLE` trained, the last node the loss."""
    leaves, operations = random_operations(nodes, seed)
    formulas = {f"n{k}": FORMULAS[op].format(a, b) for k, (op, a, b) in enumerate(operations)}
    return {"name": f"random {nodes}", "values": {name: str(value) for name, value in leaves.items()},
            "trainable": list(TRAINABLE), "nodes": formulas, "loss": f"n{nodes - 1}"}


class Value:
    """A micrograd-style scalar: its value, its gradient, its inputs and the local derivative by each."""

    __slots__ = ("data", "grad", "inputs", "local")

    def __init__(self, data: float, inputs: tuple = (), local: tuple = ()) -> None:
        self.data, self.grad, self.inputs, self.local = data, 0.0, inputs, local

    def __add__(self, other: Value) -> Value:
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Value) -> Value:
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def scale(self, factor: float) -> Value:
        return Value(self.data * factor, (self,), (factor,))

    def tanh(self) -> Value:
        value = math.tanh(self.data)
        return Value(value, (self,), (1 - value * value,))

    def exp(self) -> Value:
        value = math.exp(self.data)
        return Value(value, (self,), (value,))

    def backward(self) -> None:
        """Every gradient, in reverse topological order (found without recursion: graphs are deep)."""
        order, seen, pending = [], set(), [(self, False)]
        while pending:
            value, inputs_done = pending.pop()
            if inputs_done:
                order.append(value)
            elif id(value) not in seen:
                seen.add(id(value))
                pending.append((value, True))
                pending.extend((v, False) for v in value.inputs)
        self.grad = 1.0
        for value in reversed(order):
            for source, local in zip(value.inputs, value.local):
                source.grad += local * value.grad


def micrograd_gradients(leaves: dict[str, float], operations: list[tuple[str, str, str]]) -> dict[str, float]:
    """One forward and backward pass with `Value`: the leaves' gradients."""
    known = {name: Value(value) for name, value in leaves.items()}
    leaves = dict(known)
    last = None
    for k, (op, a, b) in enumerate(operations):
        x, y = known[a], known[b]
        last = known[f"n{k}"] = ((x + y).scale(0.5) if op == "average" else x * y if op == "product"
                                 else x.tanh() if op == "tanh" else x.scale(0.01).exp())
    last.backward()
    return {name: value.grad for name, value in leaves.items()}


def torch_gradients(torch, leaves: dict[str, float], operations: list[tuple[str, str, str]]) -> dict[str, float]:
    """One forward and backward pass in PyTorch, 0-d float64 tensors: the leaves' gradients."""
    leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in leaves.items()}
    known = dict(leaves)
    last = None
    for k, (op, a, b) in enumerate(operations):
        x, y = known[a], known[b]
        last = known[f"n{k}"] = ((x + y) * 0.5 if op == "average" else x * y if op == "product"
                                 else torch.tanh(x) if op == "tanh" else torch.exp(x * 0.01))
    last.backward()
    return {name: 0.0 if value.grad is None else float(value.grad) for name, value in leaves.items()}


def worker(size: int) -> dict:
    """In a fresh process: each stage's CPU time and the peak memory after it, then the contenders."""
    import symbackprop as sbp

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.json"
        path.write_text(json.dumps(random_graph(size)))
        result = {"size": size, "rss_start": peak_rss_mib()}
        stages = {"read": lambda: sbp.open_problem(path), "derive": lambda: (problem.graph, problem.derived),
                  "values": lambda: problem.values, "checks": lambda: problem.finite_difference_checks()}
        problem = None
        for stage, run in stages.items():
            start = time.process_time()
            done = run()
            result[stage] = time.process_time() - start
            result[f"rss_{stage}"] = peak_rss_mib()
            problem = done if stage == "read" else problem
    from symbackprop.formulas import read_formula

    leaves, operations = random_operations(size)
    gradients = problem.gradients()
    ours = {name: float(gradients[read_formula(name).name]) for name in leaves}  # by each name's canonical key
    compared = [name for name, value in ours.items() if abs(value) > 1e-200]
    result.update(checked=len(problem.adjoint_checks), adjoints=len(problem.derived.adjoints), compared=len(compared))
    contenders = {"micrograd": lambda: micrograd_gradients(leaves, operations)}
    torch = torch_or_none()
    if torch is not None:
        torch.set_num_threads(1)
        contenders["torch"] = lambda: torch_gradients(torch, leaves, operations)
    for name, run in contenders.items():
        run()  # warm-up
        gc.collect()
        gc.disable()  # as symbackprop builds its derivation: the collector would scan this process's SymPy objects
        start = time.process_time()
        theirs = run()
        result[name] = time.process_time() - start
        gc.enable()
        result[f"{name}_difference"] = max(abs(theirs[leaf] - ours[leaf]) / abs(ours[leaf]) for leaf in compared)
    return result


def in_fresh_process(size: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_graphs", "--worker", str(size)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def naive(spec: dict) -> float:
    """CPU seconds for sympy.diff of the composed loss by every leaf (the graph read beforehand)."""
    from sympy import diff

    import symbackprop as sbp

    graph = sbp.open_problem(spec).graph
    cold_sympy()
    start = time.process_time()
    loss = graph.loss
    for symbol, expression in reversed(graph.forward_definitions()):
        loss = loss.xreplace({symbol: expression})
    for leaf in graph.leaves:
        diff(loss, leaf)
    return time.process_time() - start


def engine(spec: dict) -> float:
    """CPU seconds to derive every adjoint of `spec`, read beforehand, cold caches."""
    import symbackprop as sbp

    problem = sbp.open_problem(spec)
    cold_sympy()
    start = time.process_time()
    problem.derived
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv, extra=lambda parser: (
        parser.add_argument("--sizes", help="comma-separated node counts (default 100,1000,10000,100000)"),
        parser.add_argument("--worker", type=int, help="internal: measure one size in this process")))
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    heading("benchmark 5: computation graphs, through sbp.open_problem on a JSON spec", args.quick)
    if torch_or_none() is None:
        print("note: PyTorch is not installed (pip install '.[benchmark]'): its column and ratios read n/a")
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [30, 100, 300] if args.quick else [
        100, 1000, 10000, 100000]
    results = [in_fresh_process(size) for size in sizes]
    per_node = lambda value, size: f"{1000 * value / size:.3f} ms"  # noqa: E731
    table(["nodes", "read", "derive", "derive/node", "values", "checks (checked)", "micrograd fwd+bwd",
           "torch fwd+bwd", "peak RSS MiB (start/read/derive/values/checks)"],
          [[f"{r['size']:,}", seconds(r["read"]), seconds(r["derive"]), per_node(r["derive"], r["size"]),
            seconds(r["values"]), f"{seconds(r['checks'])} ({r['checked']:,} of {r['adjoints']:,})",
            seconds(r["micrograd"]), seconds(r.get("torch")),
            "/".join(f"{r[f'rss_{s}']:.0f}" for s in ("start", "read", "derive", "values", "checks"))]
           for r in results])
    largest = results[-1]
    print(f"slope: log-log graph derivation time against nodes = "
          f"{loglog_slope(sizes, [r['derive'] for r in results]):.2f}  (issue #13 target: at most 1.1)")
    print(f"per node: graph derivation at {largest['size']:,} nodes = {per_node(largest['derive'], largest['size'])}"
          "  (issue #13 target: at most 0.05 ms at 100,000 nodes)")
    print(f"memory: peak RSS at {largest['size']:,} nodes after derivation = {largest['rss_derive']:.0f} MiB, "
          f"after values and checks = {largest['rss_checks']:.0f} MiB  (issue #13 target: under 1 GiB)")
    worst = max(r.get(f"{name}_difference", 0.0) for r in results for name in ("micrograd", "torch"))
    print(f"agreement: leaves' gradients of micrograd-style and torch against ours, largest relative difference "
          f"= {worst:.1e} ({largest['compared']} leaves of gradient above 1e-200 at {largest['size']:,} nodes)")
    for r in results:
        ratio(f"graph derivation / micrograd-style forward+backward ({r['size']:,} nodes)", r["derive"], r["micrograd"])
        ratio(f"graph derivation / torch forward+backward ({r['size']:,} nodes)", r["derive"], r.get("torch"))
    ratio(f"micrograd-style / torch forward+backward ({largest['size']:,} nodes)", largest["micrograd"],
          largest.get("torch"))
    ratio(f"read the spec / derive ({largest['size']:,} nodes)", largest["read"], largest["derive"])
    small = random_graph(25)
    ratio("naive sympy.diff / graph derivation (25 nodes)", naive(small), engine(small))


if __name__ == "__main__":
    main()
