"""Activation functions: each gives a neuron's local expression out = f(net).

The derivative is never written here: the derivation stage differentiates `output`.
Softmax is the one activation that couples the neurons of a layer, so `output` takes
every net input of the layer and the index of the neuron.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from sympy import Add, Expr, Mul, Piecewise, Pow, StrictGreaterThan, exp, log, tanh, true


@dataclass(frozen=True)
class Activation:
    """A named activation; `output(nets, j)` is out_j as a SymPy expression of the layer's net inputs."""

    name: str
    output: Callable[[Sequence[Expr], int], Expr]
    coupled: bool = False
    """True when out_j depends on the other neurons' net inputs too (softmax)."""
    kink: str | None = None
    """Where the activation is not differentiable, and which one-sided derivative the engine uses there."""


def _elementwise(function: Callable[[Expr], Expr]) -> Callable[[Sequence[Expr], int], Expr]:
    return lambda nets, j: function(nets[j])


def _logistic(net: Expr) -> Expr:
    """1/(1 + e^(-net)), built as written: evaluating the power would query SymPy's assumptions
    about the sum, which costs milliseconds per neuron and changes nothing."""
    return Pow(Add(1, exp(-net), evaluate=False), -1, evaluate=False)


def _relu(net: Expr) -> Expr:
    return Piecewise((net, StrictGreaterThan(net, 0)), (0, True))


def relu_argument(expr: Expr) -> Expr | None:
    """net when `expr` is relu's pieces (net if net > 0, else 0), i.e. max(0, net); otherwise None."""
    if not isinstance(expr, Piecewise) or len(expr.args) != 2:
        return None
    (value, condition), (otherwise, always) = expr.args
    if otherwise == 0 and always == true and isinstance(condition, StrictGreaterThan) \
            and condition.lhs == value and condition.rhs == 0:
        return value
    return None


def _softmax(nets: Sequence[Expr], j: int) -> Expr:
    denominator = Pow(Add(*(exp(net) for net in nets), evaluate=False), -1, evaluate=False)
    return Mul(exp(nets[j]), denominator, evaluate=False)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _elementwise(_logistic)),
    "tanh": Activation("tanh", _elementwise(tanh)),
    "relu": Activation("relu", _elementwise(_relu),
                       kink="relu is not differentiable at net = 0; the engine uses the left derivative, 0"),
    "identity": Activation("identity", _elementwise(lambda net: net)),
    "softplus": Activation("softplus", _elementwise(lambda net: log(1 + exp(net)))),
    "softmax": Activation("softmax", _softmax, coupled=True),
}
