"""A network as symbols with small local expressions: the data the derivation walks backwards."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Rational, Symbol

from symbackprop.network.activations import Activation
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


@dataclass(frozen=True)
class Neuron:
    """One neuron: net = its local affine expression, out = activation(net)."""

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
    sources: tuple[Symbol, ...]
    """What feeds this layer: the inputs i_k, or the outs of the previous layer."""
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
class Network:
    spec: Spec
    inputs: tuple[Symbol, ...]
    targets: tuple[Symbol, ...]
    layers: tuple[Layer, ...]
    parameters: tuple[Parameter, ...]
    errors: tuple[OutputError, ...]
    total: Symbol
    total_expression: Expr
    """E_total as the sum of the output errors' symbols: E_{o1} + E_{o2}."""
    loss_expression: Expr
    """E_total written out in targets and outputs, the expression the backward pass differentiates."""
    learning_rate: Symbol

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        return tuple(neuron for layer in self.layers for neuron in layer.neurons)

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
        """The spec's numbers: inputs, targets, parameters and the learning rate, exactly."""
        values: dict[Symbol, Rational] = dict(zip(self.inputs, self.spec.inputs))
        values.update(zip(self.targets, self.spec.targets))
        values.update((p.symbol, p.value) for p in self.parameters)
        values[self.learning_rate] = self.spec.learning_rate
        return values

    def forward_definitions(self) -> list[tuple[Symbol, Expr]]:
        """Every named intermediate of the forward pass with its local expression, in evaluation order."""
        definitions: list[tuple[Symbol, Expr]] = []
        for layer in self.layers:
            definitions += [(n.net, n.net_expression) for n in layer.neurons]
            definitions += [(n.out, n.out_expression) for n in layer.neurons]
        definitions += [(e.symbol, e.expression) for e in self.errors]
        definitions.append((self.total, self.total_expression))
        return definitions
