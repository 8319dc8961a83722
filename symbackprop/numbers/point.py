"""Every named intermediate of one forward and backward pass, evaluated at the spec's numbers."""

from __future__ import annotations

import mpmath
from sympy import Symbol

from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.evaluate import PRECISION, evaluate_definitions, to_mpf

MAX_WORKING_DIGITS = 2000
"""Beyond this a value is out of reach: the logistic of 10^4 differs from 1 in its 4,343rd digit."""
SLACK_DIGITS = 10
"""Magnitudes costing up to this many digits are absorbed by `PRECISION`'s own margin (45 are shown)."""


def spec_values(network: Network) -> dict[Symbol, mpmath.mpf]:
    """Inputs, targets, parameters and learning rate as high-precision numbers."""
    return {symbol: to_mpf(value) for symbol, value in network.point().items()}


def working_precision(network: Network) -> int:
    """Digits the exact path carries at the spec's point: `PRECISION`, plus what its magnitudes cost.

    An activation saturates like e^-|net| (the logistic of 1000 is 1 - 5e-435): telling out and 1 - out
    apart takes |net| / ln 10 more digits; a value near 1e100 takes 100 more for a change of 1e-25 in it
    to register. At most `MAX_WORKING_DIGITS`."""
    with mpmath.workdps(PRECISION):
        values = evaluate_definitions(network.forward_definitions(), spec_values(network))
        nets = [abs(values[n.net]) for one in network.passes for layer in one.layers for n in layer.neurons]
        finite = [abs(v) for v in values.values() if mpmath.isfinite(v) and v]
        extra = max(nets, default=0) / mpmath.ln(10) + max((mpmath.log10(v) for v in finite), default=0)
        if extra <= SLACK_DIGITS:
            return PRECISION
        return int(min(PRECISION + mpmath.ceil(extra), MAX_WORKING_DIGITS))


def forward_values(network: Network, values: dict[Symbol, mpmath.mpf] | None = None,
                   hand_round: int | None = None, digits: int | None = None) -> dict[Symbol, mpmath.mpf]:
    """The forward pass: every net, out, output error and E_total, at `digits` (by default the
    network's `working_precision`)."""
    with mpmath.workdps(digits or working_precision(network)):
        start = spec_values(network) if values is None else values
        return evaluate_definitions(network.forward_definitions(), start, hand_round)


def pass_values(derivation: Derivation, hand_round: int | None = None) -> dict[Symbol, mpmath.mpf]:
    """Forward then backward pass: every symbol of the derivation with its value.

    `hand_round=N` rounds each intermediate to N decimals before it is used again, as
    a worked solution by hand does; the default carries `working_precision` digits throughout.
    """
    digits = working_precision(derivation.network)
    with mpmath.workdps(digits):
        known = forward_values(derivation.network, hand_round=hand_round, digits=digits)
        backward = [(d.symbol, d.expression) for d in derivation.definitions]
        return evaluate_definitions(backward, known, hand_round)
