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


def compile_step(derivation: Derivation, order: str = "simultaneous", backend: str = "mpmath") -> Callable:
    """A function (parameter values) -> (E_total, outputs of every sample, updated parameter values)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    network = derivation.network
    parameters = [p.symbol for p in network.parameters]
    constants = list(network.inputs) + list(network.targets) + [network.learning_rate]
    names: dict[Symbol, Symbol] = {}

    def name(symbol: Symbol) -> Symbol:
        return names.setdefault(symbol, Symbol(f"v{len(names)}"))

    printer = _PRINTERS[backend]({"fully_qualified_modules": False})

    def code(expression: Expr) -> str:
        return printer.doprint(expression.xreplace({s: name(s) for s in expression.free_symbols}))

    lines = [f"def step({', '.join(str(name(p)) for p in parameters)}):"]
    lines += [f"    {name(symbol)} = {code(expression)}" for symbol, expression in network.forward_definitions()]
    current_layer = None
    for definition in derivation.definitions:
        if order == "output-first" and current_layer is not None and definition.layer != current_layer:
            lines += [f"    {name(u.parameter.symbol)} = {name(u.symbol)}" for u in derivation.updates
                      if u.parameter.layer == current_layer]
        current_layer = definition.layer
        lines.append(f"    {name(definition.symbol)} = {code(definition.expression)}")
    updated = {u.parameter.symbol: u.symbol for u in derivation.updates}
    outputs = network.outputs
    lines.append(f"    return {name(network.total)}, ({''.join(f'{name(o)}, ' for o in outputs)}), "
                 f"({''.join(f'{name(updated.get(p, p))}, ' for p in parameters)})")
    namespace: dict[str, object] = dict(_FUNCTIONS[backend])
    point = network.point()
    with mpmath.workdps(PRECISION):
        namespace.update((str(name(c)), _number(point[c], backend)) for c in constants)
    exec(compile("\n".join(lines), f"<symbackprop step {network.spec.name}>", "exec"), namespace)  # noqa: S102
    return namespace["step"]


def train(derivation: Derivation, steps: int, order: str = "simultaneous", backend: str = "mpmath",
          progress: Callable[[int], None] | None = None) -> TrainingResult:
    """`steps` rounds of full-batch gradient descent from the spec's parameter values.

    `progress(k)` is called after each step, for a progress bar.
    """
    network = derivation.network
    step = compile_step(derivation, order, backend)
    with mpmath.workdps(PRECISION):
        values = tuple(_number(p.value, backend) for p in network.parameters)
        history = []
        for done in range(1, steps + 1):
            error, outputs, values = step(*values)
            history.append((error, outputs))
            if progress is not None:
                progress(done)
        error, outputs, _next = step(*values)
        history.append((error, outputs))
    return TrainingResult(steps, order, {p.name: v for p, v in zip(network.parameters, values)}, tuple(history))


def _number(value, backend: str):
    return to_mpf(value) if backend == "mpmath" else float(value)
