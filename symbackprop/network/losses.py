"""Losses: each gives the error of one output neuron as a SymPy expression of its target and output.

E_total is the sum of those errors, as in the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Add, Expr, Mul, Pow, Rational


@dataclass(frozen=True)
class Loss:
    """A named loss; `error(target, out)` is the error of one output neuron."""

    name: str
    error: Callable[[Expr, Expr], Expr]
    description: str


def _half_squared(target: Expr, out: Expr) -> Expr:
    # Built unevaluated so that it prints in the document's order: 1/2 (target - out)^2.
    difference = Add(target, Mul(-1, out, evaluate=False), evaluate=False)
    return Mul(Rational(1, 2), Pow(difference, 2, evaluate=False), evaluate=False)


LOSSES: dict[str, Loss] = {
    "half_squared_error": Loss("half_squared_error", _half_squared, "the sum over outputs of 1/2 (target - out)^2"),
}
