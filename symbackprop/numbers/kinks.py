"""Where a piecewise activation (relu) is evaluated exactly at its kink, or a maximum at a tie, so its
derivative is one-sided (or a choice among the tied entries)."""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from sympy import Max, Symbol

from symbackprop.network import Network, Neuron
from symbackprop.network.activations import relu_argument
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


@dataclass(frozen=True)
class NodeKink:
    """A graph node evaluated where its expression is not differentiable: a relu at 0, a max with a tie."""

    node: Symbol
    note: str


def graph_kinks(graph: Graph, values: dict[Symbol, mpmath.mpf]) -> list[NodeKink]:
    """Every node of a computation graph that is a relu exactly at 0 or a maximum of tied entries."""
    near = mpmath.mpf(10) ** -KINK_TOLERANCE_DIGITS
    found = []
    for node in graph.nodes:
        expression = node.expression
        if isinstance(expression, Max):
            top = values[node.symbol]
            tied = [a for a in expression.args if abs(evaluate(a, values) - top) <= near]
            if len(tied) > 1:
                found.append(NodeKink(node.symbol, f"max({', '.join(map(str, expression.args))}) has a tie: "
                                                   f"{', '.join(map(str, tied))} are equal at its maximum; max is not differentiable "
                                                   f"there, and the engine routes the gradient to {tied[0]} alone (the "
                                                   f"first in the max's order)"))
        elif relu_argument(expression) is not None and abs(evaluate(relu_argument(expression), values)) <= near:
            found.append(NodeKink(node.symbol, f"{node.symbol} = max(0, {relu_argument(expression)}) at its kink, "
                                               f"{relu_argument(expression)} = 0: the engine uses the left derivative, 0"))
    return found

