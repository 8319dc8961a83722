"""The validated description of a network: plain data, every number an exact `Rational`."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Rational


@dataclass(frozen=True)
class LayerSpec:
    """One fully connected layer: `weights[j][k]` runs from input k to neuron j."""

    name: str
    activation: str
    weights: tuple[tuple[Rational, ...], ...]
    bias: Rational | tuple[Rational, ...] | None

    @property
    def size(self) -> int:
        return len(self.weights)

    @property
    def fan_in(self) -> int:
        return len(self.weights[0])


@dataclass(frozen=True)
class Spec:
    """A network, the point it is evaluated at, and how it is trained."""

    name: str
    inputs: tuple[Rational, ...]
    targets: tuple[Rational, ...]
    layers: tuple[LayerSpec, ...]
    loss: str
    learning_rate: Rational
    update_biases: bool
