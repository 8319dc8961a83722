"""Benchmark 3: derivation scaling on fully connected sigmoid networks, 2-2-2 up to 20,200 parameters.

For each network (half squared error, one sample, per-neuron biases, all parameters trained):

- `build_network` + `derive` (symbackprop's backprop over named intermediates): time, ms per
  parameter;
- `compile_gradient(..., backend="math")`: time to generate and compile the gradient function, and
  the process's peak resident memory right after it (after the derivation when it is not compiled);
- one gradient: one call of it (E_total and every gradient, in double precision);
- symbackprop's matrix form (`derive_matrix` + `compile_matrix`, when numpy is installed): time to
  derive it and build its numpy function, and one call of that function (loss, every gradient and
  the update), as issue #6 asks for 10,000 parameters and more;
- PyTorch float64 autograd, one forward and backward pass, when torch is installed;
- for reference, the same matrix form written by hand with numpy (not symbackprop code): what the
  generated function costs beyond the arithmetic;
- naive `sympy.diff`: the loss composed down to the parameters (built here, since the library's
  oracle refuses networks of more than 64 connections) and differentiated for every parameter.

SymPy's expression cache is emptied before every timed derivation, compilation and naive run, so
that a repeat does not reuse what the previous one built. Each network runs in a fresh subprocess,
so the peak memory is its own; a stage that exceeds its time limit is stopped and reported as
"> limit", and is not tried on the larger networks. Also printed: the log-log slope of derivation
time against the number of connections.

    python -m benchmarks.bench_scaling [--quick] [--sizes 71-71-71,100-100-100] [--naive-limit S] [--compile-limit S]

`--sizes` measures only the networks named; a limit of 0 skips that stage (`--compile-limit 0
--naive-limit 0` measures the derivations, the matrix form and torch alone, in seconds).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT, arguments, cold_sympy, connection_count, dense_spec, heading, interleaved, loglog_slope, median,
    numpy_or_none, parameter_count, peak_rss_mib, ratio, seconds, table, torch_or_none,
)

FULL_SIZES = [(2, 2, 2), (4, 4, 4), (8, 8, 8), (10, 13, 3), (16, 16, 16), (22, 22, 22), (32, 32, 32),
              (50, 50, 50), (71, 71, 71), (100, 100, 100)]
"""Input, hidden and output widths. 10-13-3 has 185 parameters and 22-22-22 1,012, the sizes issue #6's
naive sympy.diff and PyTorch targets name; 71-71-71 has 10,224 and 100-100-100 20,200."""
QUICK_SIZES = [(2, 2, 2), (4, 4, 4), (8, 8, 8)]
AGREEMENT = 1e-9


class OutOfTime(BaseException):
    """Raised by the interval timer inside a stage; a BaseException so that no library code catches it."""


def _alarm(_signal, _frame):
    raise OutOfTime


def limited(limit: float, function):
    """function() with a time limit: (seconds, result), or (None, None) when the limit was hit."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        result = function()
        return time.perf_counter() - start, result
    except OutOfTime:
        return None, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


# --- the worker: one network in its own process ------------------------------------------------------

def worker(sizes: tuple[int, ...], repeats: int, compile_limit: float | None, evaluations: float) -> None:
    from symbackprop.derivation import derive
    from symbackprop.network import build_network
    from symbackprop.numbers.training import compile_gradient
    from symbackprop.spec import spec_from_dict

    numpy = numpy_or_none()
    warm = derive(build_network(spec_from_dict(dense_spec((2, 2, 2)))))
    compile_gradient(warm, backend="math")
    if numpy is not None:
        _matrix_program(warm.network.spec)
    del warm
    emit(stage="start", rss_mib=peak_rss_mib())

    data = dense_spec(sizes)
    spec = spec_from_dict(data)
    builds, derives = [], []
    derivation = None
    rss_after_derive = None
    for _ in range(repeats):
        derivation = None
        cold_sympy()
        start = time.perf_counter()
        network = build_network(spec)
        middle = time.perf_counter()
        derivation = derive(network)
        builds.append(middle - start)
        derives.append(time.perf_counter() - middle)
        if rss_after_derive is None:
            rss_after_derive = peak_rss_mib()
    emit(stage="derive", build=median(builds), derive=median(derives),
         total=median([b + d for b, d in zip(builds, derives)]), rss_mib=rss_after_derive,
         parameters=len(derivation.network.parameters))

    compiled = None
    if compile_limit is not None:
        times = []
        for _ in range(repeats):
            cold_sympy()
            elapsed, compiled = limited(compile_limit, lambda: compile_gradient(derivation, backend="math"))
            if elapsed is None:
                break
            times.append(elapsed)
            if sum(times) > 2.0:
                break
        emit(stage="compile", time=median(times) if compiled is not None else None, limit=compile_limit,
             rss_mib=peak_rss_mib())

    contenders, flatteners = {}, {}
    if numpy is not None:
        times, programs = interleaved({"matrix": lambda: _matrix_program(spec)}, repeats, warmup=False,
                                      before=cold_sympy)
        emit(stage="matrix", time=median(times["matrix"]))
        contenders["matrix"], flatteners["matrix"] = _matrix_gradient(programs["matrix"], derivation.network)
    values = tuple(float(p.value) for p in derivation.network.parameters)
    if compiled is not None:
        contenders["gradient"] = lambda: compiled(*values)
        flatteners["gradient"] = lambda result: list(result[1])
    torch = torch_or_none()
    if torch is not None:
        contenders["torch"], flatteners["torch"] = _torch_gradient(torch, data)
    if numpy is not None:
        contenders["numpy"], flatteners["numpy"] = _numpy_gradient(numpy, data)
    if not contenders:
        emit(stage="evaluate")
        return
    probe, _ = interleaved(contenders, 1)
    calls = max(3, min(2000, int(evaluations / max(max(t[0] for t in probe.values()), 1e-7))))
    times, results = interleaved(contenders, calls, warmup=False)
    record = {name: median(t) for name, t in times.items()}
    gradients = {name: flatteners[name](results[name]) for name in contenders}
    reference = gradients.pop("gradient", None) or gradients.pop("torch", None)
    if reference is not None and gradients:
        scale = max(max(abs(g) for g in reference), 1e-300)
        record["gradient_difference"] = max(abs(a - b) / scale for other in gradients.values()
                                            for a, b in zip(reference, other))
    emit(stage="evaluate", calls=calls, **record)


def _matrix_program(spec):
    """symbackprop's matrix form: derived, and compiled to one numpy function."""
    from symbackprop.derivation.matrix import derive_matrix
    from symbackprop.numbers.matrix import compile_matrix
    return compile_matrix(derive_matrix(spec))


def _matrix_gradient(program, network):
    """One call of the matrix form's function (loss, every gradient, the update), and how to flatten its
    gradients (every weight matrix row by row, then every bias: symbackprop's parameter order)."""
    from symbackprop.numbers.matrix import point_arrays
    parameters, inputs, targets, eta = point_arrays(program.derivation, network)
    return (lambda: program.function(*parameters, inputs, targets, eta),
            lambda result: [g for array in result[2] for g in array.reshape(-1).tolist()])


def _torch_gradient(torch, data: dict):
    """One float64 forward and backward pass of the same network with autograd, and how to flatten its
    gradients in symbackprop's parameter order (every weight, layer by layer and row by row, then every bias)."""
    f64 = torch.float64
    layers = data["layers"]
    weights = [torch.tensor([[float(w) for w in row] for row in layer["weights"]], dtype=f64, requires_grad=True)
               for layer in layers]
    biases = [torch.tensor([float(b) for b in layer["bias"]], dtype=f64, requires_grad=True) for layer in layers]
    x = torch.tensor([float(v) for v in data["inputs"]], dtype=f64)
    t = torch.tensor([float(v) for v in data["targets"]], dtype=f64)
    parameters = weights + biases

    def gradient():
        for p in parameters:
            p.grad = None
        a = x
        for w, b in zip(weights, biases):
            a = torch.sigmoid(w @ a + b)
        error = 0.5 * ((t - a) ** 2).sum()
        error.backward()
        return parameters

    return gradient, lambda result: [g for p in result for g in p.grad.reshape(-1).tolist()]


def _numpy_gradient(np, data: dict):
    """The per-layer matrix form of backpropagation, written by hand with numpy: delta_L = (out - target)
    * out (1 - out), delta_l = (W_{l+1}^T delta_{l+1}) * out_l (1 - out_l), dE/dW_l = delta_l out_{l-1}^T.
    A reference for what the generated matrix form costs beyond the arithmetic; not symbackprop code."""
    layers = data["layers"]
    weights = [np.array([[float(w) for w in row] for row in layer["weights"]]) for layer in layers]
    biases = [np.array([float(b) for b in layer["bias"]]) for layer in layers]
    x = np.array([float(v) for v in data["inputs"]])
    t = np.array([float(v) for v in data["targets"]])

    def gradient():
        outs = [x]
        for w, b in zip(weights, biases):
            outs.append(1.0 / (1.0 + np.exp(-(w @ outs[-1] + b))))
        out = outs[-1]
        delta = (out - t) * out * (1.0 - out)
        weight_gradients, bias_gradients = [None] * len(weights), [None] * len(weights)
        for index in reversed(range(len(weights))):
            weight_gradients[index] = np.outer(delta, outs[index])
            bias_gradients[index] = delta
            if index:
                below = outs[index]
                delta = (weights[index].T @ delta) * below * (1.0 - below)
        return weight_gradients, bias_gradients

    def flatten(result):
        weight_gradients, bias_gradients = result
        return [g for array in weight_gradients + bias_gradients for g in array.reshape(-1).tolist()]

    return gradient, flatten


# --- the naive contender ------------------------------------------------------------------------------

def naive_worker(sizes: tuple[int, ...], limit: float) -> None:
    """Compose E_total down to the parameters and differentiate it with sympy.diff for every parameter."""
    from sympy import diff

    from symbackprop.network import build_network
    from symbackprop.spec import spec_from_dict

    def run(spec):
        network = build_network(spec)
        composed = {}
        for symbol, definition in network.forward_definitions():
            composed[symbol] = definition.xreplace(composed)
        loss = composed[network.total]
        return [diff(loss, p.symbol) for p in network.parameters]

    run(spec_from_dict(dense_spec((2, 2, 2))))  # warm up, as for the other contenders
    spec = spec_from_dict(dense_spec(sizes))
    cold_sympy()
    elapsed, _ = limited(limit, lambda: run(spec))
    emit(stage="naive", time=elapsed, limit=limit)


# --- the parent: one subprocess per network -----------------------------------------------------------

def _subprocess(arguments: list[str], limit: float) -> list[dict]:
    command = [sys.executable, "-m", "benchmarks.bench_scaling", *arguments]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=limit, check=False)
        output, failed = done.stdout, done.returncode != 0
        if failed:
            sys.stderr.write(done.stderr)
    except subprocess.TimeoutExpired as expired:  # a safety net: the worker's own timer should fire first
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def main(argv: list[str] | None = None) -> None:
    def extra(parser):
        parser.add_argument("--sizes", help="only these networks, e.g. 71-71-71,100-100-100")
        parser.add_argument("--naive-limit", type=float, default=None,
                            help="seconds per naive sympy.diff run (0: skip it)")
        parser.add_argument("--compile-limit", type=float, default=None,
                            help="seconds per compile_gradient run (0: skip it)")
        parser.add_argument("--worker", help=argparse.SUPPRESS)
        parser.add_argument("--naive", help=argparse.SUPPRESS)
        parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
        parser.add_argument("--evaluations", type=float, default=0.5, help=argparse.SUPPRESS)

    args = arguments(__doc__.splitlines()[0], extra, argv=argv)
    if args.worker:
        limit = None if args.compile_limit is not None and args.compile_limit < 0 else args.compile_limit
        worker(_sizes(args.worker), args.repeats, limit, args.evaluations)
        return
    if args.naive:
        naive_worker(_sizes(args.naive), args.naive_limit)
        return

    heading("benchmark 3: derivation scaling, fully connected sigmoid networks", args.quick)
    sizes = [_sizes(name) for name in args.sizes.split(",")] if args.sizes else QUICK_SIZES if args.quick else FULL_SIZES
    naive_limit = args.naive_limit if args.naive_limit is not None else 3.0 if args.quick else 120.0
    compile_limit = args.compile_limit if args.compile_limit is not None else 30.0 if args.quick else 180.0
    evaluations = 0.2 if args.quick else 1.0
    small_repeats = 3 if args.quick else 5
    torch = torch_version()  # not imported here: the workers import it, after their derivation
    print(f"torch {torch or 'not installed'}; limits (0: skipped): naive sympy.diff {naive_limit:g} s, compile "
          f"{compile_limit:g} s; build+derive and the matrix form's derive+build are the median of {small_repeats} "
          "runs below 1,000 parameters, of 3 below 5,000, else one run", flush=True)

    measured: list[Measured] = []
    compile_over, naive_over = compile_limit == 0, naive_limit == 0
    for shape in sizes:
        name = "-".join(map(str, shape))
        repeats = small_repeats if parameter_count(shape) < 1000 else 3 if parameter_count(shape) < 5000 else 1
        worker_arguments = ["--worker", name, "--repeats", str(repeats), "--evaluations", str(evaluations),
                            "--compile-limit", str(-1 if compile_over else compile_limit)]
        records = {r["stage"]: r for r in _subprocess(worker_arguments, limit=compile_limit + 600)}
        if "derive" not in records:
            raise SystemExit(f"the worker for {name} failed")
        row = Measured(shape, records["derive"], records.get("compile", {}), records.get("evaluate", {}),
                       records.get("matrix", {}))
        if compile_limit == 0:
            row.compile_text = "skipped"
        elif compile_over:
            row.compile_text = f"> {compile_limit:g} s (not run)"
        elif row.compiled.get("time") is None:
            row.compile_text, compile_over = f"> {compile_limit:g} s", True
        else:
            row.compile_text = seconds(row.compiled["time"])
        if naive_limit == 0:
            row.naive_text = "skipped"
        elif naive_over:
            row.naive_text = f"> {naive_limit:g} s (not run)"
        else:
            naive_records = _subprocess(["--naive", name, "--naive-limit", str(naive_limit)], limit=naive_limit + 120)
            row.naive = next((r["time"] for r in naive_records if r["stage"] == "naive"), None)
            row.naive_text = seconds(row.naive) if row.naive is not None else f"> {naive_limit:g} s"
            row.naive_stopped = naive_over = row.naive is None
        measured.append(row)
        print(f"measured {name}: build+derive {seconds(row.derived['total'])}, compile {row.compile_text}, "
              f"matrix form derive+build {seconds(row.matrix.get('time'))}, naive {row.naive_text}", flush=True)
        difference = row.evaluated.get("gradient_difference")
        if difference is not None and difference > AGREEMENT:
            raise SystemExit(f"{name}: the contenders' gradients differ by {difference:g} (relative)")

    print(flush=True)
    table(["network", "parameters", "connections", "build+derive", "ms/param", "compile", "one gradient (compiled)",
           "matrix form derive+build", "matrix form per gradient", "torch per gradient", "numpy by hand (reference)",
           "naive sympy.diff", "peak RSS MiB", "grad diff"],
          [[m.name, str(m.parameters), str(m.connections), seconds(m.derived["total"]),
            f"{m.derived['total'] / m.parameters * 1e3:.3f}", m.compile_text, seconds(m.evaluated.get("gradient")),
            seconds(m.matrix.get("time")), seconds(m.evaluated.get("matrix")),
            seconds(m.evaluated.get("torch")) if torch else "not installed", seconds(m.evaluated.get("numpy")),
            m.naive_text, f"{m.peak_rss_mib:.0f}", _exponent(m.evaluated.get("gradient_difference"))]
           for m in measured])
    print("peak RSS: of the worker process right after compiling (Python, SymPy, the network, the derivation "
          "and the compiled gradient; right after the derivation where the compile was stopped); one gradient (compiled): one call of compile_gradient's function (E_total and every "
          "gradient); matrix form per gradient: one call of its numpy function (loss, every gradient and the "
          "update); torch: one forward and backward pass; grad diff: largest difference between the compiled "
          "gradients (or torch's where they are not compiled) and every other contender's, over the largest "
          "gradient", flush=True)

    connections = [m.connections for m in measured]
    derive_times = [m.derived["total"] for m in measured]
    print(f"slope: log-log derivation time against connections = {loglog_slope(connections, derive_times):.2f}"
          "  (issue #6 target: at most 1.1)", flush=True)
    large = [(c, t) for c, t in zip(connections, derive_times) if c >= 100]
    if len(large) >= 2:
        print(f"slope: over networks of 100 connections or more = "
              f"{loglog_slope([c for c, _ in large], [t for _, t in large]):.2f}", flush=True)
    compiled = [(m.connections, m.compiled["time"]) for m in measured if m.compiled.get("time")]
    if len(compiled) >= 2:
        print(f"slope: log-log compile time against connections = "
              f"{loglog_slope([c for c, _ in compiled], [t for _, t in compiled]):.2f}", flush=True)
    largest = measured[-1]
    print(f"memory: peak RSS of the largest derivation ({largest.name}, {largest.parameters} parameters) = "
          f"{largest.peak_rss_mib:.0f} MiB  (issue #6 target: under 1024 MiB)", flush=True)
    print(f"ms per parameter at the largest network: {largest.derived['total'] / largest.parameters * 1e3:.3f}"
          "  (issue #6 target: at most 0.1 at 10,000 parameters)", flush=True)

    note = "issue #6 target: at least 100x at 185 parameters"
    for m in measured:
        label = f"naive sympy.diff / backprop derivation ({m.name}, {m.parameters} parameters)"
        if m.naive is not None:
            ratio(label, m.naive, m.derived["total"], note)
        elif m.naive_stopped:  # stopped at the limit: the ratio is at least this
            print(f"ratio: {label} > {naive_limit / m.derived['total']:.3g}x  (stopped at the {naive_limit:g} s "
                  f"limit; {note})", flush=True)
    for m in measured:
        if m.evaluated.get("gradient") is not None and m.evaluated.get("torch") is not None:
            ratio(f"compiled gradient / torch per gradient ({m.name}, {m.parameters} parameters)", m.evaluated["gradient"],
                  m.evaluated["torch"], "issue #6 target: below 1x up to 1,000 parameters")
    if torch is None:
        print("ratio: compiled gradient / torch per gradient = n/a  (torch not installed)", flush=True)
    for m in measured:
        if m.evaluated.get("matrix") is not None and m.evaluated.get("torch") is not None:
            ratio(f"matrix form / torch per gradient ({m.name}, {m.parameters} parameters)", m.evaluated["matrix"],
                  m.evaluated["torch"], "issue #6 target: within 2x from 10,000 parameters")
    if torch is None or not any(m.evaluated.get("matrix") for m in measured):
        print("ratio: matrix form / torch per gradient = n/a  (torch or numpy not installed)", flush=True)
    for m in measured:
        if m.evaluated.get("matrix") is not None and m.evaluated.get("numpy") is not None:
            ratio(f"matrix form / numpy by hand per gradient ({m.name}, {m.parameters} parameters)",
                  m.evaluated["matrix"], m.evaluated["numpy"], "what the generated function costs beyond the arithmetic")
    for m in measured:
        if m.matrix.get("time") is not None:
            ratio(f"matrix form derive+build / scalar build+derive ({m.name}, {m.parameters} parameters)",
                  m.matrix["time"], m.derived["total"])


@dataclass
class Measured:
    shape: tuple[int, ...]
    derived: dict
    compiled: dict
    evaluated: dict
    matrix: dict
    """The matrix form's derive+build time, when numpy is installed."""
    compile_text: str = ""
    naive: float | None = None
    naive_text: str = ""
    naive_stopped: bool = False
    """The naive run was stopped at its limit on this network (and not tried on larger ones)."""

    @property
    def name(self) -> str:
        return "-".join(map(str, self.shape))

    @property
    def peak_rss_mib(self) -> float:
        """The worker's peak memory after compiling, or after deriving when the compile did not finish."""
        return self.compiled["rss_mib"] if self.compiled.get("time") else self.derived["rss_mib"]

    @property
    def parameters(self) -> int:
        return parameter_count(self.shape)

    @property
    def connections(self) -> int:
        return connection_count(self.shape)


def _exponent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0e}"


def torch_version() -> str | None:
    import importlib.metadata
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-"))


if __name__ == "__main__":
    main()
