"""Benchmark 2: 10,000 training steps of the document's network (spec `mazur`), side by side.

Contenders, all in double precision, all with the document's procedure (every gradient from the
weights before the step, biases not updated, learning rate 0.5):

- `train(backend="math")`: symbackprop's compiled double path as `symbackprop train --fast` calls it
  (`symbackprop.numbers.training.train`, E_total and the outputs recorded every steps/10 steps),
  code generation and compilation included;
- `train(..., every=1)`: the same, recording E_total and the outputs before every step;
- `compiled run (fused loop)`: the generated loop alone, already compiled, recording once;
- `hand loop`: forward, backward and update of the 2-2-2 sigmoid net unrolled by hand in plain
  Python floats, as a person would write it, error computed once at the end;
- `hand loop + history`: the same, recording E_total and the outputs at every step, as
  symbackprop's loop does (its `TrainingResult.history`);
- `object-per-neuron`: classes Neuron, NeuronLayer and NeuralNetwork with a method per partial
  derivative, in the style of the document author's script (written here from its description);
- `torch float64 autograd`: PyTorch when it is installed;
- `Problem.train again`: `symbackprop.Problem("mazur").train(steps, fast=True)` on a problem that has
  trained before, so its loop is compiled already (issue #12: at most 1.1x the hand loop);
- `sbp.train in a fresh process`: `sbp.train("mazur", steps, fast=True)` as the first call of a new
  process (spec, derivation, code generation and compilation included, the imports not), in CPU
  time against the hand loop in the same process (issue #12: at most 3.0x).

SymPy's expression cache is emptied and the garbage collected before every timed run (it matters only to `train`, which
generates its code each time). Every contender must end at the same E_total (relative difference at most 1e-9), so the
comparison is fair.

    python -m benchmarks.bench_training [--quick] [--steps N]
"""

from __future__ import annotations

import gc
import math
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    arguments, cold_sympy, heading, interleaved, median, ratio, seconds, table, torch_or_none,
)

INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
HIDDEN_WEIGHTS = ((0.15, 0.20), (0.25, 0.30))
HIDDEN_BIAS = 0.35
OUTPUT_WEIGHTS = ((0.40, 0.45), (0.50, 0.55))
OUTPUT_BIAS = 0.60
LEARNING_RATE = 0.5
AGREEMENT = 1e-9


# --- hand-unrolled plain-Python loop -------------------------------------------------------------

def hand_loop(steps: int) -> float:
    """`steps` rounds of gradient descent on the 2-2-2 sigmoid net, unrolled; returns the final E_total."""
    exp = math.exp
    i1, i2 = INPUTS
    t1, t2 = TARGETS
    (w1, w2), (w3, w4) = HIDDEN_WEIGHTS
    (w5, w6), (w7, w8) = OUTPUT_WEIGHTS
    b1, b2 = HIDDEN_BIAS, OUTPUT_BIAS
    eta = LEARNING_RATE
    for _ in range(steps):
        h1 = 1.0 / (1.0 + exp(-(w1 * i1 + w2 * i2 + b1)))
        h2 = 1.0 / (1.0 + exp(-(w3 * i1 + w4 * i2 + b1)))
        o1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b2)))
        o2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b2)))
        d1 = (o1 - t1) * o1 * (1.0 - o1)
        d2 = (o2 - t2) * o2 * (1.0 - o2)
        e1 = (d1 * w5 + d2 * w7) * h1 * (1.0 - h1)
        e2 = (d1 * w6 + d2 * w8) * h2 * (1.0 - h2)
        w1 -= eta * e1 * i1
        w2 -= eta * e1 * i2
        w3 -= eta * e2 * i1
        w4 -= eta * e2 * i2
        w5 -= eta * d1 * h1
        w6 -= eta * d1 * h2
        w7 -= eta * d2 * h1
        w8 -= eta * d2 * h2
    h1 = 1.0 / (1.0 + exp(-(w1 * i1 + w2 * i2 + b1)))
    h2 = 1.0 / (1.0 + exp(-(w3 * i1 + w4 * i2 + b1)))
    o1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b2)))
    o2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b2)))
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2


def hand_loop_with_history(steps: int) -> float:
    """The hand loop, also recording (E_total, (out_o1, out_o2)) before every step."""
    exp = math.exp
    i1, i2 = INPUTS
    t1, t2 = TARGETS
    (w1, w2), (w3, w4) = HIDDEN_WEIGHTS
    (w5, w6), (w7, w8) = OUTPUT_WEIGHTS
    b1, b2 = HIDDEN_BIAS, OUTPUT_BIAS
    eta = LEARNING_RATE
    history = []
    record = history.append
    for _ in range(steps):
        h1 = 1.0 / (1.0 + exp(-(w1 * i1 + w2 * i2 + b1)))
        h2 = 1.0 / (1.0 + exp(-(w3 * i1 + w4 * i2 + b1)))
        o1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b2)))
        o2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b2)))
        record((0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2, (o1, o2)))
        d1 = (o1 - t1) * o1 * (1.0 - o1)
        d2 = (o2 - t2) * o2 * (1.0 - o2)
        e1 = (d1 * w5 + d2 * w7) * h1 * (1.0 - h1)
        e2 = (d1 * w6 + d2 * w8) * h2 * (1.0 - h2)
        w1 -= eta * e1 * i1
        w2 -= eta * e1 * i2
        w3 -= eta * e2 * i1
        w4 -= eta * e2 * i2
        w5 -= eta * d1 * h1
        w6 -= eta * d1 * h2
        w7 -= eta * d2 * h1
        w8 -= eta * d2 * h2
    h1 = 1.0 / (1.0 + exp(-(w1 * i1 + w2 * i2 + b1)))
    h2 = 1.0 / (1.0 + exp(-(w3 * i1 + w4 * i2 + b1)))
    o1 = 1.0 / (1.0 + exp(-(w5 * h1 + w6 * h2 + b2)))
    o2 = 1.0 / (1.0 + exp(-(w7 * h1 + w8 * h2 + b2)))
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2


# --- one object per neuron, in the style of the document author's script --------------------------

class Neuron:
    """A neuron keeps its weights, its bias, the inputs it last saw and its output."""

    def __init__(self, weights: list[float], bias: float):
        self.weights = list(weights)
        self.bias = bias
        self.inputs: list[float] = []
        self.output = 0.0

    def net_input(self) -> float:
        total = 0.0
        for x, w in zip(self.inputs, self.weights):
            total += x * w
        return total + self.bias

    @staticmethod
    def squash(net: float) -> float:
        return 1.0 / (1.0 + math.exp(-net))

    def calculate_output(self, inputs: list[float]) -> float:
        self.inputs = inputs
        self.output = self.squash(self.net_input())
        return self.output

    def error(self, target: float) -> float:
        return 0.5 * (target - self.output) ** 2

    def d_error_d_output(self, target: float) -> float:
        return -(target - self.output)

    def d_output_d_net(self) -> float:
        return self.output * (1.0 - self.output)

    def delta(self, target: float) -> float:
        """dE/dnet for an output neuron."""
        return self.d_error_d_output(target) * self.d_output_d_net()

    def d_net_d_weight(self, index: int) -> float:
        return self.inputs[index]


class NeuronLayer:
    """Neurons sharing one bias, as in the document."""

    def __init__(self, weights: tuple[tuple[float, ...], ...], bias: float):
        self.neurons = [Neuron(row, bias) for row in weights]

    def feed_forward(self, inputs: list[float]) -> list[float]:
        return [neuron.calculate_output(inputs) for neuron in self.neurons]


class NeuralNetwork:
    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate
        self.hidden = NeuronLayer(HIDDEN_WEIGHTS, HIDDEN_BIAS)
        self.output = NeuronLayer(OUTPUT_WEIGHTS, OUTPUT_BIAS)

    def feed_forward(self, inputs: list[float]) -> list[float]:
        return self.output.feed_forward(self.hidden.feed_forward(inputs))

    def train(self, inputs: list[float], targets: list[float]) -> None:
        self.feed_forward(inputs)
        output_deltas = [neuron.delta(t) for neuron, t in zip(self.output.neurons, targets)]
        hidden_deltas = []
        for h, hidden in enumerate(self.hidden.neurons):  # through the weights before the update
            d_error_d_out = sum(d * o.weights[h] for d, o in zip(output_deltas, self.output.neurons))
            hidden_deltas.append(d_error_d_out * hidden.d_output_d_net())
        for delta, neuron in zip(output_deltas, self.output.neurons):
            for k in range(len(neuron.weights)):
                neuron.weights[k] -= self.learning_rate * delta * neuron.d_net_d_weight(k)
        for delta, neuron in zip(hidden_deltas, self.hidden.neurons):
            for k in range(len(neuron.weights)):
                neuron.weights[k] -= self.learning_rate * delta * neuron.d_net_d_weight(k)

    def total_error(self, inputs: list[float], targets: list[float]) -> float:
        self.feed_forward(inputs)
        return sum(neuron.error(t) for neuron, t in zip(self.output.neurons, targets))


def object_per_neuron(steps: int) -> float:
    network = NeuralNetwork(LEARNING_RATE)
    inputs, targets = list(INPUTS), list(TARGETS)
    for _ in range(steps):
        network.train(inputs, targets)
    return network.total_error(inputs, targets)


# --- PyTorch --------------------------------------------------------------------------------------

def torch_contender(torch):
    def run(steps: int) -> float:
        f64 = torch.float64
        w_hidden = torch.tensor(HIDDEN_WEIGHTS, dtype=f64, requires_grad=True)
        w_output = torch.tensor(OUTPUT_WEIGHTS, dtype=f64, requires_grad=True)
        b_hidden = torch.tensor(HIDDEN_BIAS, dtype=f64)
        b_output = torch.tensor(OUTPUT_BIAS, dtype=f64)
        x = torch.tensor(INPUTS, dtype=f64)
        t = torch.tensor(TARGETS, dtype=f64)
        for _ in range(steps):
            out = torch.sigmoid(w_output @ torch.sigmoid(w_hidden @ x + b_hidden) + b_output)
            error = 0.5 * ((t - out) ** 2).sum()
            error.backward()
            with torch.no_grad():
                w_hidden -= LEARNING_RATE * w_hidden.grad
                w_output -= LEARNING_RATE * w_output.grad
            w_hidden.grad = None
            w_output.grad = None
        with torch.no_grad():
            out = torch.sigmoid(w_output @ torch.sigmoid(w_hidden @ x + b_hidden) + b_output)
            return float(0.5 * ((t - out) ** 2).sum())
    return run


# --- symbackprop ----------------------------------------------------------------------------------

def symbackprop_contenders(derivation):
    from symbackprop.numbers.training import compile_loss, compile_network, train

    compiled = compile_network(derivation, "simultaneous", backend="math")
    loss = compile_loss(derivation, backend="math")
    start = tuple(float(p.value) for p in derivation.network.parameters)

    def via_train(steps: int) -> float:
        """As `symbackprop train --fast` runs it: E_total recorded every steps/10 steps."""
        return float(train(derivation, steps, "simultaneous", backend="math", every=max(steps // 10, 1)).error)

    def via_train_every_step(steps: int) -> float:
        return float(train(derivation, steps, "simultaneous", backend="math").error)

    def fused(steps: int) -> float:
        _history, values = compiled.run(1, steps, *start)
        return loss(*values)

    return via_train, via_train_every_step, fused


def cold_and_collected() -> None:
    """`cold_sympy`, then a full garbage collection, so that no contender pays for a collection of
    what the one before it left behind (a full pass over SymPy's objects costs milliseconds)."""
    cold_sympy()
    gc.collect()


FRESH_PROCESS = """
import sys, time
sys.path.insert(0, {root!r})
import symbackprop as sbp
from benchmarks.bench_training import hand_loop
from benchmarks.common import peak_rss_mib
start = time.process_time()
sbp.train("mazur", {steps}, fast=True)
first = time.process_time() - start
peak = peak_rss_mib()
start = time.process_time()
hand_loop({steps})
print(first, time.process_time() - start, peak)
"""
"""A new process: CPU time of the first `sbp.train` (imports done), then of the hand loop, and the
process's peak memory right after the training (its loop compiled)."""


def fresh_process(steps: int, repeats: int) -> tuple[float, float, float]:
    """Median CPU seconds of `sbp.train` as a new process's first call and of the hand loop there, and the
    median peak memory in MiB after that call."""
    source = FRESH_PROCESS.format(root=str(Path(__file__).resolve().parent.parent), steps=steps)
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                                            check=True).stdout.split())) for _ in range(repeats)]
    return tuple(median([run[k] for run in runs]) for k in range(3))


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], lambda p: p.add_argument("--steps", type=int, default=None),
                     argv=argv)
    heading("benchmark 2: training steps of the document's network", args.quick)
    steps = args.steps or (2_000 if args.quick else 10_000)
    repeats = 3 if args.quick else 7

    from symbackprop.derivation import derive
    from symbackprop.network import build_network
    from symbackprop.spec import load_spec

    derivation = derive(build_network(load_spec("mazur")))
    via_train, via_train_every_step, fused = symbackprop_contenders(derivation)
    import symbackprop as sbp

    problem = sbp.Problem("mazur")
    contenders = {
        'symbackprop train(backend="math")': via_train,
        "symbackprop train(..., every=1)": via_train_every_step,
        "symbackprop compiled run (fused loop)": fused,
        "hand loop": hand_loop,
        "hand loop + history": hand_loop_with_history,
        "object-per-neuron": object_per_neuron,
        "Problem.train again": lambda n: float(problem.train(n, fast=True).error),
    }
    torch = torch_or_none()
    if torch is not None:
        contenders["torch float64 autograd"] = torch_contender(torch)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    else:
        print("torch not installed", flush=True)

    times, finals = interleaved({name: (lambda f=f: f(steps)) for name, f in contenders.items()}, repeats,
                                before=cold_and_collected, clock=time.process_time)
    medians = {name: median(t) for name, t in times.items()}
    reference = finals["hand loop"]
    hand = medians["hand loop"]
    rows = []
    for name in contenders:
        difference = abs(finals[name] - reference) / abs(reference)
        rows.append([name, seconds(medians[name]), f"{medians[name] / hand:.2f}x",
                     f"{medians[name] / steps * 1e6:.2f} us", f"{finals[name]:.12e}", f"{difference:.1e}"])
    print(f"{steps} steps, median CPU time of {repeats} interleaved runs", flush=True)
    table(["contender", "time", "/ hand loop", "per step", "final E_total", "rel. diff"], rows)
    disagreeing = [row[0] for row in rows if float(row[-1]) > AGREEMENT]
    if disagreeing:
        raise SystemExit(f"contenders end at a different E_total (> {AGREEMENT:g} relative): {disagreeing}")
    print(f"all contenders end at the same E_total (relative difference <= {AGREEMENT:g})", flush=True)

    ratio('train(backend="math") / hand loop', medians['symbackprop train(backend="math")'], hand,
          "issue #6 target: at most 1.5x")
    ratio("compiled run / hand loop", medians["symbackprop compiled run (fused loop)"], hand)
    ratio("train(..., every=1) / hand loop + history", medians["symbackprop train(..., every=1)"],
          medians["hand loop + history"])
    ratio("object-per-neuron / hand loop", medians["object-per-neuron"], hand)
    ratio("Problem.train again / hand loop", medians["Problem.train again"], hand, "issue #12 target: at most 1.1x")
    first, hand_there, peak = fresh_process(steps, repeats)
    print(f"sbp.train in a fresh process: {seconds(first)} CPU (hand loop there: {seconds(hand_there)}), "
          f"median of {repeats} processes; peak RSS after it: {peak:.0f} MiB", flush=True)
    ratio("sbp.train in a fresh process / hand loop (CPU time)", first, hand_there, "issue #12 target: at most 3.0x")
    if torch is not None:
        ratio('torch / train(backend="math")', medians["torch float64 autograd"],
              medians['symbackprop train(backend="math")'], "issue #6 target: at least 50x")
        ratio("torch / compiled run", medians["torch float64 autograd"],
              medians["symbackprop compiled run (fused loop)"])
        ratio("torch / hand loop", medians["torch float64 autograd"], hand)
    else:
        print('ratio: torch / train(backend="math") = n/a  (torch not installed)', flush=True)


if __name__ == "__main__":
    main()
