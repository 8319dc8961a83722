"""Gradient descent on the spec's sample, compiled from the derivation's own assignments.

One training step runs the forward definitions and the backward definitions of the
derivation as straight-line code. The code is generated from our SymPy expressions
(symbols renamed v0, v1, ...; no user text), printed by SymPy's Python printers for
two backends: `mpmath` (high precision, the exact path) and `math` (double precision,
fast, checked against the mpmath path in the tests).

Two orders of update are supported:

- ``simultaneous``: every gradient comes from the weights as they were before the step;
  this is the procedure the document's text describes.
- ``output-first``: the output layer's weights are updated first, and the layer below
  back-propagates through the updated weights, and so on down the layers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

import mpmath
from sympy import Expr, Symbol
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from symbackprop.derivation import Derivation
from symbackprop.numbers.evaluate import PRECISION, to_mpf

ORDERS = ("simultaneous", "output-first")
BACKENDS = ("mpmath", "math")
_PRINTERS = {"mpmath": MpmathPrinter, "math": PythonCodePrinter}
_FUNCTIONS = {"mpmath": {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "mpf": mpmath.mpf},
              "math": {"exp": math.exp, "log": math.log, "tanh": math.tanh}}


@dataclass(frozen=True)
class TrainingResult:
    """Where training ended, and E_total and the outputs before each step and after the last."""

    steps: int
    order: str
    parameters: dict[str, object]
    history: tuple[tuple[object, tuple[object, ...]], ...]
    """(E_total, outputs) after 0, 1, ..., `steps` rounds."""

    @property
    def error(self):
        return self.history[-1][0]

    @property
    def outputs(self) -> tuple:
        return self.history[-1][1]

    @property
    def errors(self) -> tuple:
        return tuple(error for error, _outputs in self.history)


@dataclass(frozen=True)
class CompiledNetwork:
    """Straight-line code generated from the derivation, for one backend and one order of update."""

    step: Callable
    """(parameter values) -> (E_total, outputs of every sample, updated parameter values)."""
    run: Callable
    """(steps, parameter values) -> (history of (E_total, outputs) before each step, final values):
    the fused loop, forward, backward and update together, with no call per step."""
    loss: Callable
    """(parameter values) -> E_total: the forward pass alone."""


def compile_network(derivation: Derivation, order: str = "simultaneous", backend: str = "mpmath") -> CompiledNetwork:
    """Generate and compile the training step as Python source, printed by SymPy's code printers.

    Before printing, the assignments are tidied the way a person unrolling the loop by hand would:
    a definition that merely renames another value is substituted, a repeated expression is
    computed once, and what no result needs (gradients of biases that are not updated) is dropped.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    network = derivation.network
    parameters = [p.symbol for p in network.parameters]
    constants = list(network.inputs) + list(network.targets) + [network.learning_rate]
    updated = {u.parameter.symbol: u.symbol for u in derivation.updates}
    forward = _tidy(network.forward_definitions(), [network.total, *network.outputs], parameters)
    sequence: list[tuple[Symbol, Expr]] = list(network.forward_definitions())
    current_layer = None
    for definition in derivation.definitions:
        if order == "output-first" and current_layer is not None and definition.layer != current_layer:
            sequence += [(u.parameter.symbol, u.symbol) for u in derivation.updates if u.parameter.layer == current_layer]
        current_layer = definition.layer
        sequence.append((definition.symbol, definition.expression))
    results = [network.total, *network.outputs, *updated.values()]
    full = _tidy(sequence, results, parameters)

    names: dict[Symbol, str] = {}
    printer = _PRINTERS[backend]({"fully_qualified_modules": False})

    def name(symbol: Symbol, lines: _Tidied) -> str:
        value = lines.aliases.get(symbol, symbol)
        if not isinstance(value, Symbol):
            return printer.doprint(value)
        return names.setdefault(value, f"v{len(names)}")

    def body(lines: _Tidied, indent: int) -> str:
        text = ""
        for symbol, expression in lines.assignments:
            renamed = expression.xreplace({s: Symbol(name(s, lines)) for s in expression.free_symbols})
            text += " " * indent + f"{name(symbol, lines)} = {printer.doprint(renamed)}\n"
        return text

    arguments = "".join(f"{name(p, full)}, " for p in parameters)
    outputs = "".join(f"{name(o, full)}, " for o in network.outputs)
    new_values = "".join(f"{name(updated.get(p, p), full)}, " for p in parameters)
    local_constants = "".join(f"    {name(c, full)} = _constants[{k}]\n" for k, c in enumerate(constants))
    source = (
        f"def step({arguments}):\n{local_constants}{body(full, 4)}"
        f"    return {name(network.total, full)}, ({outputs}), ({new_values})\n\n"
        f"def loss({arguments}):\n{local_constants}{body(forward, 4)}    return {name(network.total, forward)}\n\n"
        f"def run(_steps, {arguments}):\n{local_constants}"
        "    _history = []\n    _record = _history.append\n    for _ in range(_steps):\n"
        f"{body(full, 8)}        _record(({name(network.total, full)}, ({outputs})))\n"
        f"        {arguments} = {new_values}\n"
        f"    return _history, ({arguments})\n"
    )
    namespace: dict[str, object] = dict(_FUNCTIONS[backend])
    point = network.point()
    with mpmath.workdps(PRECISION):
        namespace["_constants"] = tuple(_number(point[c], backend) for c in constants)
    exec(compile(source, f"<symbackprop step {network.spec.name}>", "exec"), namespace)  # noqa: S102
    return CompiledNetwork(namespace["step"], namespace["run"], namespace["loss"])


@dataclass
class _Tidied:
    assignments: list[tuple[Symbol, Expr]]
    aliases: dict[Symbol, Expr]
    """Symbols that name no computation of their own: a number, or another symbol."""


def _tidy(sequence: list[tuple[Symbol, Expr]], results: list[Symbol], parameters: Iterable[Symbol]) -> _Tidied:
    """Substitute renames, compute repeated expressions once, drop what `results` do not need.

    A parameter is reassigned in place (output-first order), so a rename of a parameter is kept
    as a rename only where no later reassignment can change what it refers to.
    """
    parameters = frozenset(parameters)
    aliases: dict[Symbol, Expr] = {}
    seen: dict[Expr, Symbol] = {}
    kept: list[tuple[Symbol, Expr]] = []
    reassigned_later = {target for target, _ in sequence if target in parameters}
    for target, expression in sequence:
        expression = expression.xreplace(aliases)
        if target in parameters:  # a reassignment: values computed from the old one are now stale
            reassigned_later.discard(target)
            seen = {e: s for e, s in seen.items() if target not in e.free_symbols}
            kept.append((target, expression))
            continue
        renames_safely = isinstance(expression, Symbol) and expression not in reassigned_later
        if expression.is_Number or renames_safely:
            aliases[target] = expression
        elif expression in seen:
            aliases[target] = seen[expression]
        else:
            seen[expression] = target
            kept.append((target, expression))
    needed = {aliases.get(r, r) for r in results}
    live: list[tuple[Symbol, Expr]] = []
    for target, expression in reversed(kept):
        if target in needed:
            live.append((target, expression))
            needed |= expression.free_symbols
            if target in parameters:
                needed.discard(target)
                needed |= expression.free_symbols
    return _Tidied(list(reversed(live)), aliases)


def train(derivation: Derivation, steps: int, order: str = "simultaneous", backend: str = "mpmath",
          progress: Callable[[int], None] | None = None) -> TrainingResult:
    """`steps` rounds of full-batch gradient descent from the spec's parameter values.

    `progress(k)` is called now and then with the number of steps done, for a progress bar.
    """
    network = derivation.network
    compiled = compile_network(derivation, order, backend)
    chunk = steps if progress is None else max(steps // 200, 1)
    with mpmath.workdps(PRECISION):
        values = tuple(_number(p.value, backend) for p in network.parameters)
        history: list = []
        while len(history) < steps:
            part, values = compiled.run(min(chunk, steps - len(history)), *values)
            history += part
            if progress is not None:
                progress(len(history))
        error, outputs, _next = compiled.step(*values)
        history.append((error, outputs))
    return TrainingResult(steps, order, {p.name: v for p, v in zip(network.parameters, values)}, tuple(history))


def _number(value, backend: str):
    return to_mpf(value) if backend == "mpmath" else float(value)
