"""Losses: each gives the error of one output neuron as a SymPy expression of its target and output.

E of a sample is the sum of those errors, as in the document. Expressions are built
unevaluated so that they print in the order people write them: 1/2 (target - out)^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Add, Expr, Integer, Mul, Piecewise, Pow, Rational, log

from symbackprop.spec.model import Spec


@dataclass(frozen=True)
class Loss:
    """A named loss; `error(target, out, outputs)` is the error of one of `outputs` output neurons."""

    name: str
    error: Callable[[Expr, Expr, int], Expr]


def _difference(target: Expr, out: Expr) -> Expr:
    return Add(target, Mul(-1, out, evaluate=False), evaluate=False)


def _scaled_square(scale: Expr, target: Expr, out: Expr) -> Expr:
    square = Pow(_difference(target, out), 2, evaluate=False)
    return square if scale == 1 else Mul(scale, square, evaluate=False)


def _one_minus(x: Expr) -> Expr:
    return Add(1, Mul(-1, x, evaluate=False), evaluate=False)


def _binary_cross_entropy(target: Expr, out: Expr, outputs: int) -> Expr:
    inner = Add(Mul(target, log(out), evaluate=False),
                Mul(_one_minus(target), log(_one_minus(out)), evaluate=False), evaluate=False)
    return Mul(-1, inner, evaluate=False)


def _huber(delta: Rational) -> Callable[[Expr, Expr, int], Expr]:
    """Huber's loss of d = target - out: 1/2 d^2 where |d| <= delta, delta |d| - delta^2/2 beyond, written
    as three pieces of single comparisons (quadratic inside, linear on each side; its derivative is continuous)."""
    def error(target: Expr, out: Expr, outputs: int) -> Expr:
        d = _difference(target, out)
        offset = Mul(Integer(-1), Rational(1, 2) * delta ** 2, evaluate=False)
        return Piecewise((Add(Mul(delta, d, evaluate=False), offset, evaluate=False), d > delta),
                         (Add(Mul(-delta, d, evaluate=False), offset, evaluate=False), d < -delta),
                         (_scaled_square(Rational(1, 2), target, out), True))
    return error


def loss_of(spec: Spec) -> Loss:
    """The spec's loss; Huber's with the spec's delta."""
    if spec.loss == "huber":
        return Loss("huber", _huber(spec.huber_delta))
    return LOSSES[spec.loss]


LOSSES: dict[str, Loss] = {
    "half_squared_error": Loss("half_squared_error", lambda t, o, n: _scaled_square(Rational(1, 2), t, o)),
    "squared_error": Loss("squared_error", lambda t, o, n: _scaled_square(Integer(1), t, o)),
    "mean_squared_error": Loss("mean_squared_error", lambda t, o, n: _scaled_square(Rational(1, n), t, o)),
    "binary_cross_entropy": Loss("binary_cross_entropy", _binary_cross_entropy),
    "cross_entropy": Loss("cross_entropy", lambda t, o, n: Mul(-1, t, log(o), evaluate=False)),
    "huber": Loss("huber", _huber(Integer(1))),
}
