"""A network as symbols with small local expressions: the data the derivation walks backwards.

With a batch, the network is applied once per sample: each `Pass` has its own symbols
(out_o1[2] is out_o1 for the second sample), while the parameters are shared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Rational, Symbol

from symbackprop.network.activations import Activation
from symbackprop.network.symbols import PENALTY_STRENGTH
from symbackprop.spec import Spec


@dataclass(frozen=True)
class Parameter:
    """A weight or bias: its JSON name (w5, b1), its symbol (w_5, b_1) and its value."""

    name: str
    symbol: Symbol
    value: Rational
    is_bias: bool
    layer: int
    neurons: tuple[int, ...]
    """Indices of the neurons of `layer` whose net input this parameter enters (several for a shared bias)."""


@dataclass(frozen=True, eq=False)
class Neuron:
    """One neuron in one pass: net = its local affine expression, out = activation(net).

    Compared by identity: each neuron is built once, and comparing its expressions field by
    field would cost a walk of its net input on every lookup.
    """

    label: str
    layer: int
    index: int
    net: Symbol
    out: Symbol
    net_expression: Expr
    out_expression: Expr
    activation: Activation


@dataclass(frozen=True)
class Layer:
    name: str
    neurons: tuple[Neuron, ...]
    weights: tuple[tuple[Parameter, ...], ...]
    biases: tuple[Parameter, ...]


@dataclass(frozen=True)
class OutputError:
    """E_{o1} = error(target_{o1}, out_{o1}), the error of one output neuron."""

    symbol: Symbol
    expression: Expr
    neuron: Neuron
    target: Symbol


@dataclass(frozen=True)
class Pass:
    """The network applied to one sample: inputs, targets, neurons and errors with their own symbols."""

    sample: int | None
    """1-based position in the batch; None when the spec has a single sample."""
    inputs: tuple[Symbol, ...]
    targets: tuple[Symbol, ...]
    layers: tuple[Layer, ...]
    errors: tuple[OutputError, ...]
    total: Symbol
    """E_total for a single sample, E_total[s] for sample s of a batch."""
    total_expression: Expr
    """The sample's loss as the sum of its output errors: E_{o1} + E_{o2}."""
    loss_expression: Expr
    """The sample's loss written out in targets and outputs."""
    share: tuple[Symbol, Expr] | None = None
    """In a batch whose loss is the mean over N samples: E_share[s] = (1/N) E_total[s]."""

    @property
    def part(self) -> Symbol:
        """The part of E_total that depends on this pass's outputs, and nothing else does: E_total for a
        single sample, the sample's E_total[s] in a sum over a batch, its E_share[s] in a mean."""
        return self.total if self.share is None else self.share[0]

    @property
    def outputs(self) -> tuple[Symbol, ...]:
        return tuple(neuron.out for neuron in self.layers[-1].neurons)

    def forward_definitions(self) -> list[tuple[Symbol, Expr]]:
        """Every named intermediate of this pass with its local expression, in evaluation order."""
        definitions: list[tuple[Symbol, Expr]] = []
        for layer in self.layers:
            definitions += [(n.net, n.net_expression) for n in layer.neurons]
            definitions += [(n.out, n.out_expression) for n in layer.neurons]
        definitions += [(e.symbol, e.expression) for e in self.errors]
        definitions.append((self.total, self.total_expression))
        if self.share is not None:
            definitions.append(self.share)
        return definitions


@dataclass(frozen=True)
class Network:
    spec: Spec
    parameters: tuple[Parameter, ...]
    passes: tuple[Pass, ...]
    total: Symbol
    total_expression: Expr
    """E_total: the single pass's sum of errors, or the sum or mean of the samples' losses."""
    loss_scale: Rational
    """1, or 1/(number of samples) when the reduction is the mean."""
    learning_rate: Symbol

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers of the first pass: the network's structure, with the first sample's symbols."""
        return self.passes[0].layers

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        return tuple(neuron for layer in self.layers for neuron in layer.neurons)

    @property
    def inputs(self) -> tuple[Symbol, ...]:
        return tuple(symbol for one in self.passes for symbol in one.inputs)

    @property
    def targets(self) -> tuple[Symbol, ...]:
        return tuple(symbol for one in self.passes for symbol in one.targets)

    @property
    def outputs(self) -> tuple[Symbol, ...]:
        return tuple(symbol for one in self.passes for symbol in one.outputs)

    @property
    def trainable(self) -> tuple[Parameter, ...]:
        """The parameters gradient descent updates: weights, and biases when the spec says so."""
        return tuple(p for p in self.parameters if not p.is_bias or self.spec.update_biases)

    def parameter(self, name: str) -> Parameter:
        for candidate in self.parameters:
            if candidate.name == name or candidate.symbol.name == name:
                return candidate
        raise KeyError(name)

    def point(self) -> dict[Symbol, Rational]:
        """The spec's numbers: every sample's inputs and targets, the parameters, the learning rate and the
        penalty's strength."""
        values: dict[Symbol, Rational] = {}
        for one, sample in zip(self.passes, self.spec.samples):
            values.update(zip(one.inputs, sample.inputs))
            values.update(zip(one.targets, sample.targets))
        values.update((p.symbol, p.value) for p in self.parameters)
        values[self.learning_rate] = self.spec.learning_rate
        if self.spec.regularization is not None:
            values[PENALTY_STRENGTH] = self.spec.regularization.strength
        return values

    @property
    def rates(self) -> tuple[Symbol, ...]:
        """The constants an update reads besides the parameters and gradients: eta, and lambda with a penalty."""
        return (self.learning_rate,) + ((PENALTY_STRENGTH,) if self.spec.regularization is not None else ())

    def forward_definitions(self) -> list[tuple[Symbol, Expr]]:
        """Every named intermediate of the forward pass(es) and E_total, in evaluation order."""
        definitions = [d for one in self.passes for d in one.forward_definitions()]
        if len(self.passes) > 1:
            definitions.append((self.total, self.total_expression))
        return definitions
