"""Every named intermediate of one forward and backward pass, evaluated at the spec's numbers."""

from __future__ import annotations

import mpmath
from sympy import Symbol

from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.evaluate import PRECISION, evaluate_definitions, to_mpf


def spec_values(network: Network) -> dict[Symbol, mpmath.mpf]:
    """Inputs, targets, parameters and learning rate as high-precision numbers."""
    return {symbol: to_mpf(value) for symbol, value in network.point().items()}


def forward_values(network: Network, values: dict[Symbol, mpmath.mpf] | None = None,
                   hand_round: int | None = None) -> dict[Symbol, mpmath.mpf]:
    """The forward pass: every net, out, output error and E_total."""
    with mpmath.workdps(PRECISION):
        start = spec_values(network) if values is None else values
        return evaluate_definitions(network.forward_definitions(), start, hand_round)


def pass_values(derivation: Derivation, hand_round: int | None = None) -> dict[Symbol, mpmath.mpf]:
    """Forward then backward pass: every symbol of the derivation with its value.

    `hand_round=N` rounds each intermediate to N decimals before it is used again, as
    a worked solution by hand does; the default carries `PRECISION` digits throughout.
    """
    with mpmath.workdps(PRECISION):
        known = forward_values(derivation.network, hand_round=hand_round)
        backward = [(d.symbol, d.expression) for d in derivation.definitions]
        return evaluate_definitions(backward, known, hand_round)
