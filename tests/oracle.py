"""The test oracle: differentiate the fully composed E_total(parameters) with `sympy.diff`.

This is exactly what the engine avoids (the composed expression grows fast with depth),
so it is only for small networks, as an independent check of the reverse-mode derivation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath
from sympy import Expr, Symbol, diff

from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.evaluate import PRECISION, evaluate
from symbackprop.numbers.point import pass_values

MAX_CONNECTIONS = 64
"""Networks larger than this are refused: the composed expression would be too large to differentiate."""


def composed_loss(network: Network) -> Expr:
    """E_total with every net, out and error replaced by its definition, down to inputs and parameters."""
    connections = sum(len(row) for layer in network.layers for row in layer.weights)
    if connections > MAX_CONNECTIONS:
        raise ValueError(f"the oracle is for small networks ({connections} > {MAX_CONNECTIONS} connections)")
    expression: Expr = network.total
    for symbol, definition in reversed(network.forward_definitions()):
        expression = expression.xreplace({symbol: definition})
    return expression


def oracle_gradient(network: Network, parameter: Symbol) -> Expr:
    """dE_total/dparameter by `sympy.diff` of the composed loss."""
    return diff(composed_loss(network), parameter)


def require_oracle_gradients(derivation: Derivation, points: Sequence[Mapping] | None = None) -> None:
    """Every gradient of the derivation equals the oracle's to 40 digits, at each of `points` (values of
    every symbol, the derivation's own among them; by default the spec's point)."""
    network = derivation.network
    points = [pass_values(derivation)] if points is None else points
    for parameter in network.parameters:
        oracle = oracle_gradient(network, parameter.symbol)
        symbol = derivation.gradient(parameter.name).symbol
        for point in points:
            with mpmath.workdps(PRECISION):
                expected = evaluate(oracle, point)
            assert abs(point[symbol] - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected)), parameter.name
