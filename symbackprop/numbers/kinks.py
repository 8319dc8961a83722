"""Where a piecewise activation (relu) is evaluated exactly at its kink, so its derivative is one-sided;
for a computation graph, also |u| at 0, min at a tie, and a maximum whose largest arguments are tied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
from sympy import Abs, Expr, Max, Min, Piecewise, Symbol
from sympy.core.relational import Relational

from symbackprop.derivation.rules import cases
from symbackprop.network import Network, Neuron
from symbackprop.network.graph import Graph
from symbackprop.numbers.evaluate import evaluate
from symbackprop.numbers.precision import PRECISION

KINK_TOLERANCE_DIGITS = PRECISION - 10
"""|net| below 10^-40 counts as the kink: exact zeros carry at most this much binary noise."""


@dataclass(frozen=True)
class Kink:
    """A neuron whose net input sits on its activation's kink; `note` says which derivative is used."""

    neuron: Neuron
    note: str


def kinks(network: Network, values: dict[Symbol, mpmath.mpf]) -> list[Kink]:
    """Every neuron of every sample whose net input is 0 under an activation with a kink there."""
    found = []
    for one in network.passes:
        for layer in one.layers:
            for neuron in layer.neurons:
                kink = neuron.activation.kink
                if kink and abs(values[neuron.net]) <= mpmath.mpf(10) ** -KINK_TOLERANCE_DIGITS:
                    found.append(Kink(neuron, kink))
    return found


GRAPH_KINKS = {
    "Piecewise": "relu is not differentiable where its argument is 0; the engine uses the left derivative, 0",
    "Abs": "|u| is not differentiable at u = 0; the engine uses 0, the mean of the one-sided derivatives -1 and 1",
    "Min": "min is not differentiable where its arguments are equal; the engine gives each the mean of the "
           "one-sided derivatives, 1/2",
    "Max": "max is not differentiable where its largest arguments are equal; the engine routes the gradient to "
           "the first of them in the max's order alone, as max pooling does",
}
"""Which derivative the engine uses at each kind of kink in a graph's formulas (`derivation.rules`)."""


@dataclass(frozen=True)
class GraphKink:
    """A node of a computation graph whose formula holds `function` (relu, |u|, max, min) at its kink."""

    node: Symbol
    function: Expr
    depends: frozenset[Symbol]
    """Every name the node depends on: their gradients run through the kink."""

    @property
    def note(self) -> str:
        return GRAPH_KINKS[type(self.function).__name__]


def graph_kinks(graph: Graph, values: Mapping[Symbol, mpmath.mpf]) -> list[GraphKink]:
    """Every relu, |u|, max and min of the graph's node formulas that sits on its kink at `values`: a condition
    of its cases holds with equality, or a maximum's largest arguments are equal, to `KINK_TOLERANCE_DIGITS`."""
    tolerance = mpmath.mpf(10) ** -KINK_TOLERANCE_DIGITS
    found = []
    for node in graph.nodes:
        for function in node.expression.atoms(Piecewise, Abs, Max, Min):
            if isinstance(function, Max):
                entries = [evaluate(argument, values) for argument in function.args]
                at_kink = sum(1 for entry in entries if max(entries) - entry <= tolerance) > 1
            else:
                sides = [(c.lhs, c.rhs) for _, c in cases(function) if isinstance(c, Relational)]
                at_kink = any(abs(evaluate(lhs, values) - evaluate(rhs, values)) <= tolerance for lhs, rhs in sides)
            if at_kink:
                found.append(GraphKink(node.symbol, function, frozenset(graph.depends_on(node.symbol))))
    return found
