"""Where a piecewise activation (relu) is evaluated exactly at its kink, so its derivative is one-sided."""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from sympy import Symbol

from symbackprop.network import Network, Neuron
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
