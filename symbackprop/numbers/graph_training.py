"""Gradient descent on a computation graph's trainable names, compiled, in mpmath or in doubles.

One step is the graph's forward pass, its backward pass (`GraphDerivation.definitions`) and the update
v+ = v - eta dE/dv of every trainable name v, all at once (the simultaneous order: every gradient from the
values before the step). `numbers.codegen.SourceWriter` prints the assignments as straight-line Python,
fused into one loop as the layered network's training is (`numbers.training`); the double-precision
backend first rewrites them into forms that do not overflow (`numbers.stable`). `exact_step` is the
uncompiled exact path the tests compare both with, step by step.

Any other optimizer (momentum, RMSProp, Adam, ...) trains the graph as it trains a layered network
(`numbers.optimizers`): `graph_trainee` gives it the trainable names, `compile_graph_gradient` one compiled
forward and backward pass per step, `exact_gradient` the uncompiled one its exact worked steps read.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import replace

import mpmath
from sympy import Expr, Mul, Rational, Symbol

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import InputError
from symbackprop.memory import cycle_collector_paused
from symbackprop.names import name_of, symbol
from symbackprop.derivation.optimizers import penalty, sgd_update
from symbackprop.network.symbols import LEARNING_RATE
from symbackprop.numbers.codegen import SourceWriter
from symbackprop.numbers.evaluate import PRECISION, evaluate, to_mpf
from symbackprop.numbers.graph import graph_point, graph_values
from symbackprop.numbers.optimizers import OptimizerProgram, Trainee, train_optimized
from symbackprop.numbers.stable import (
    DOUBLE_FUNCTIONS, MPMATH_FUNCTIONS, NotFinite, finite_doubles, require_finite, stable_definitions,
)
from symbackprop.numbers.training import MAX_RECORDED, CompiledNetwork, TrainingResult, run_recorded
from symbackprop.spec.model import OptimizerSpec

GRAPH_BACKENDS = ("mpmath", "math")
MAX_EXP_ARGUMENT = 10**6
"""The exact loop refuses e^x for |x| beyond this: a run that diverges would otherwise feed e^(10^434294)
to the next exp, whose exponent alone takes more memory than the machine has."""


_DIVERGES = "training diverges: {} in the exact loop; a smaller learning_rate may converge"


def bounded_exp(x: mpmath.mpf) -> mpmath.mpf:
    """mpmath.exp, but `NotFinite` (exit 1, one line) for an argument beyond `MAX_EXP_ARGUMENT`."""
    if abs(x) > MAX_EXP_ARGUMENT:
        raise NotFinite(_DIVERGES.format(f"e^x with |x| > {MAX_EXP_ARGUMENT:,}"))
    return mpmath.exp(x)


@contextmanager
def _exact_numbers() -> Iterator[None]:
    """The exact loop at `PRECISION` digits; a number too large for mpmath (tanh of 2^(10^5000)) says so in one line."""
    with mpmath.workdps(PRECISION):
        try:
            yield
        except (ArithmeticError, ValueError, MemoryError) as error:  # mpmath shifts by a value's exponent
            raise NotFinite(_DIVERGES.format(f"a value too large to compute ({type(error).__name__})")) from None


_FUNCTIONS = {"mpmath": {**MPMATH_FUNCTIONS, "exp": bounded_exp}, "math": DOUBLE_FUNCTIONS}


def updated(name: Symbol) -> Symbol:
    """v+, the value of the trainable name v after one step."""
    return symbol(replace(name_of(name), updated=True))


def update_definitions(derivation: GraphDerivation) -> list[tuple[Symbol, Expr]]:
    """v+ = v - eta dE/dv for every trainable name v (`InputError` when the spec gives no learning rate); with
    the spec's penalty, its derivative joins the gradient of each name it penalizes ((1 - eta lambda) v - eta dE/dv
    for l2, lambda a value of the graph's point)."""
    require_learning_rate(derivation)
    spec = derivation.graph.spec
    found = penalty(spec.regularization)
    return [(updated(name), sgd_update(name, gradient, found) if spec.penalizes(name)
             else name - Mul(LEARNING_RATE, gradient)) for name, gradient in zip(spec.trainable, _gradients(derivation))]


def require_learning_rate(derivation: GraphDerivation) -> Rational:
    """The spec's learning rate; `InputError` (one line) when it gives none."""
    if derivation.graph.spec.learning_rate is None:
        raise InputError("learning_rate: training a graph needs the spec's learning_rate, e.g. learning_rate = 0.1")
    return derivation.graph.spec.learning_rate


def _gradients(derivation: GraphDerivation) -> list[Symbol]:
    """dE/dv for each trainable name v, in the spec's order."""
    adjoints = {adjoint.quantity: adjoint.symbol for adjoint in derivation.adjoints}
    return [adjoints[name] for name in derivation.graph.spec.trainable]


def graph_trainee(derivation: GraphDerivation) -> Trainee:
    """A graph's trainable names as an optimizer trains them: every one trained, and penalized when the spec's
    penalty covers it, at `PRECISION` digits."""
    spec = derivation.graph.spec
    trainable = spec.trainable
    return Trainee(tuple(n.name for n in trainable), trainable, tuple(spec.values[n] for n in trainable),
                   (True,) * len(trainable), tuple(spec.penalizes(n) for n in trainable), require_learning_rate(derivation),
                   penalty(spec.regularization), PRECISION, derivation.graph.loss, tuple(_gradients(derivation)),
                   "weights (not the biases, a normalization's γ and β)" if spec.unpenalized & set(trainable)
                   else "trainable names")


def compile_graph_training(derivation: GraphDerivation, backend: str = "mpmath") -> CompiledNetwork:
    """The training loop generated from the derivation: run(blocks, every, *trainable values) as
    `CompiledNetwork.run`, the outputs of each record empty (a graph's loss is its only result)."""
    if backend not in GRAPH_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    source, bound = _source(derivation, backend)
    gc.collect()  # the writer's expressions and tables, freed before Python compiles the source (its peak)
    return CompiledNetwork(_executed(derivation, source, bound, "run"), source)


def _executed(derivation: GraphDerivation, source: str, bound: tuple, function: str) -> Callable:
    """The generated function `function` of `source`, its first line binding `bound`."""
    namespace: dict[str, object] = {"_locals": bound}
    exec(compile(source, f"<symbackprop graph {derivation.graph.spec.name}>", "exec"), namespace)  # noqa: S102
    return namespace[function]


def _source(derivation: GraphDerivation, backend: str) -> tuple[str, tuple]:
    """The loop's source, and the values its first line binds: constants, numbers, functions."""
    graph = derivation.graph
    updates = update_definitions(derivation)
    writer, arguments = _writer(derivation, updates, backend)
    new = [target for target, _ in updates]
    rebind = f"{arguments}= {''.join(f'{writer.expression(n)}, ' for n in new)}\n"
    body = writer.body([graph.loss, *new], 12)
    binding, bound = _bound(derivation, writer, backend)
    # One body, which also computes the loss (a few operations more than the gradients need): a second,
    # recording copy would double the source, and compiling it is most of the memory a large graph takes.
    source = (
        f"def run(_blocks, _every, {arguments}):\n{binding}"
        "    _history = []\n    _record = _history.append\n    for _ in range(_blocks):\n"
        f"        for _step in range(_every):\n{body}"
        f"            if not _step:\n                _record(({writer.expression(graph.loss)}, ()))\n"
        f"            {rebind}"
        f"    return _history, ({arguments})\n"
    )
    return source, bound


def _writer(derivation: GraphDerivation, after: list[tuple[Symbol, Expr]], backend: str) -> tuple[SourceWriter, str]:
    """A writer over the forward pass, the backward pass and `after`, with the trainable names as arguments
    (double precision: in forms that do not overflow), and the argument list 'v0, v1, '."""
    graph = derivation.graph
    sequence = graph.forward_definitions() + derivation.definitions() + after
    if backend == "math":
        sequence = stable_definitions(sequence)
    writer = SourceWriter(sequence, graph.spec.trainable, float_literals=backend == "math")
    return writer, "".join(f"{writer.name(name)}, " for name in graph.spec.trainable)


def _bound(derivation: GraphDerivation, writer: SourceWriter, backend: str) -> tuple[str, tuple]:
    """A generated function's first line, binding the constants, numbers and functions its printed body reads
    (call it after printing the body), and the values it binds: exact, or rounded to doubles."""
    point = derivation.graph.point()
    constants = [name for name in point if name not in derivation.graph.spec.trainable]
    names = [writer.name(c) for c in constants] + list(writer.numbers.values()) + sorted(writer.functions)
    with mpmath.workdps(PRECISION):
        exact = [to_mpf(point[c]) for c in constants] + [evaluate(n, {}) for n in writer.numbers]
    numbers = exact if backend == "mpmath" else [float(x) for x in exact]
    return (f"    {''.join(f'{n}, ' for n in names)}= _locals\n",
            (*numbers, *(_FUNCTIONS[backend][f] for f in sorted(writer.functions))))


def compile_graph_gradient(derivation: GraphDerivation, backend: str = "mpmath") -> Callable:
    """(trainable values) -> (the loss, (), dE/dv for each trainable name v): one forward and backward pass,
    generated as the training loop is, for an optimizer's program (the empty tuple: a graph has no outputs)."""
    gradients = _gradients(derivation)
    writer, arguments = _writer(derivation, [], backend)
    body = writer.body([derivation.graph.loss, *gradients], 4, results_in_place=True)
    returned = f"{writer.expression(derivation.graph.loss)}, (), ({''.join(f'{writer.expression(g)}, ' for g in gradients)})"
    binding, bound = _bound(derivation, writer, backend)  # after every expression is printed: it binds their numbers
    source = f"def gradient({arguments}):\n{binding}{body}    return {returned}\n"
    return _executed(derivation, source, bound, "gradient")


def exact_gradient(derivation: GraphDerivation) -> Callable:
    """(trainable values) -> (the loss, (), dE/dv for each trainable name v), each evaluated from the
    derivation's expressions (`graph_values`), uncompiled: the exact path an optimizer's worked steps read."""
    start, loss, gradients = exact_start(derivation), derivation.graph.loss, _gradients(derivation)

    def gradient(*values: mpmath.mpf) -> tuple:
        known = graph_values(derivation, {**start, **dict(zip(derivation.graph.spec.trainable, values))})
        return known[loss], (), tuple(known[g] for g in gradients)
    return gradient


def compile_graph_optimizer(derivation: GraphDerivation, optimizer: OptimizerSpec,
                            backend: str = "mpmath") -> OptimizerProgram:
    """The optimizer's program over the graph's trainable names (simultaneous order): the compiled gradient
    and the rule compiled once, for mpmath or doubles (the garbage collector paused, as for the training loop)."""
    with cycle_collector_paused():
        return OptimizerProgram(graph_trainee(derivation), optimizer, compile_graph_gradient(derivation, backend),
                                backend)


def train_graph_optimized(program: OptimizerProgram, steps: int, progress: Callable[[int], None] | None = None,
                          every: int = 1) -> TrainingResult:
    """`train_optimized` on a graph: the exact path refuses a diverging run in one line, as `train_graph` does."""
    with _exact_numbers() if program.backend == "mpmath" else nullcontext():
        return train_optimized(program, steps, progress, every)


def compiled_graph_training(derivation: GraphDerivation, backend: str = "mpmath") -> CompiledNetwork:
    """`compile_graph_training` with the garbage collector paused: compiling makes many objects and frees none."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return compile_graph_training(derivation, backend)
    finally:
        if collecting:
            gc.enable()


def train_graph(derivation: GraphDerivation, steps: int, backend: str = "mpmath",
                progress: Callable[[int], None] | None = None, every: int = 1,
                compiled: CompiledNetwork | None = None) -> TrainingResult:
    """`steps` rounds of gradient descent from the spec's values; the loss is recorded before steps 0,
    `every`, 2 `every`, ... and after the last, as `numbers.training.train` records E_total."""
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    if steps // every > MAX_RECORDED:
        raise InputError(f"--every: {steps:,} steps recorded every {every:,} would keep {steps // every:,} rows, "
                         f"more than {MAX_RECORDED:,}; record every {-(-steps // MAX_RECORDED):,} steps or more")
    compiled = compiled or compiled_graph_training(derivation, backend)
    trainable = derivation.graph.spec.trainable
    with finite_doubles("a value during training") if backend == "math" else _exact_numbers():
        start = derivation.graph.spec.values
        values = tuple(to_mpf(start[name]) if backend == "mpmath" else float(start[name]) for name in trainable)
        history, values = run_recorded(compiled, steps, every, values, progress)
        (history[steps],), _after = compiled.run(1, 1, *values)
    result = TrainingResult(steps, "simultaneous", {name.name: value for name, value in zip(trainable, values)},
                            history)
    if backend != "mpmath":
        require_finite([loss for loss, _ in history.values()], "the loss during training")
        require_finite(result.parameters.values(), "a trainable value after training")
    return result


def exact_step(derivation: GraphDerivation, leaves: Mapping[Symbol, mpmath.mpf]) -> tuple[mpmath.mpf, dict]:
    """One step on the exact path, uncompiled: the loss at `leaves` (every value, and eta: `exact_start`)
    and the leaves after the update, each evaluated from the derivation's expressions at `PRECISION` digits."""
    values = graph_values(derivation, leaves)
    after = dict(leaves)
    with mpmath.workdps(PRECISION):
        for name, (_target, expression) in zip(derivation.graph.spec.trainable, update_definitions(derivation)):
            after[name] = evaluate(expression, values)
    return values[derivation.graph.loss], after


def exact_start(derivation: GraphDerivation) -> dict[Symbol, mpmath.mpf]:
    """The spec's values and learning rate, where `exact_step` starts."""
    with mpmath.workdps(PRECISION):
        return graph_point(derivation.graph)
