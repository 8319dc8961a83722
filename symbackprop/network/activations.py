"""Activation functions: each gives a neuron's local expression out = f(net).

The derivative is never written here: the derivation stage differentiates `expression`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Expr, exp


@dataclass(frozen=True)
class Activation:
    """A named elementwise activation; `expression(net)` is out as a SymPy expression of net."""

    name: str
    expression: Callable[[Expr], Expr]
    description: str


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", lambda net: 1 / (1 + exp(-net)), "the logistic function 1/(1 + e^(-net))"),
}
