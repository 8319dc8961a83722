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
class Sample:
    """One training sample: the inputs and the targets of the output layer."""

    inputs: tuple[Rational, ...]
    targets: tuple[Rational, ...]


@dataclass(frozen=True)
class OptimizerSpec:
    """How `train` updates the parameters: an optimizer's kind and every one of its settings, exact."""

    kind: str = "sgd"
    settings: tuple[tuple[str, Rational], ...] = ()
    """(setting, value) for each setting of the kind (spec/vocabulary.py), defaults filled in."""


@dataclass(frozen=True)
class RegularizationSpec:
    """A weight penalty added to the loss: l2 (lambda/2 w^2) or l1 (lambda |w|) per penalized parameter."""

    kind: str
    strength: Rational
    biases: bool = False
    """Whether the biases are penalized too (the weights always are)."""


@dataclass(frozen=True)
class Spec:
    """A network, the samples it is evaluated at, and how it is trained."""

    name: str
    samples: tuple[Sample, ...]
    layers: tuple[LayerSpec, ...]
    loss: str
    learning_rate: Rational
    update_biases: bool
    reduction: str = "sum"
    """How the samples' losses combine: their sum, or their mean."""
    optimizer: OptimizerSpec = OptimizerSpec()
    huber_delta: Rational = Rational(1)
    """Where Huber's loss turns from quadratic to linear (used by the loss huber only)."""
    regularization: RegularizationSpec | None = None
