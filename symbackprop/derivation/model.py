"""The chain-rule decomposition as plain data: what each derivative is made of.

Every formula here is a SymPy expression over named intermediates (`Symbol`s and
`Partial`s); printers render these records and never differentiate anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sympy import Expr, Symbol

from symbackprop.derivation.rules import RewriteRule, Rule, differentiate, fold_product, fold_sum
from symbackprop.derivation.target_sum import TargetSumForms, target_sum_forms
from symbackprop.network import Network, Neuron, Parameter, Partial
from symbackprop.names import name_of


@dataclass(frozen=True)
class LocalDerivative:
    """One chain-rule factor d(of)/d(wrt), from differentiating the local expression of `of`."""

    symbol: Partial
    expression: Expr
    """The local expression that was differentiated (out_{o1} = 1/(1 + e^{-net_{o1}}))."""
    form: Expr
    """The derivative in named intermediates as the document writes it: out_{o1}(1 - out_{o1})."""
    identity: str | None = None
    """When `form` rewrites the derivative through an activation's identity (the logistic's out(1 - out))."""

    @cached_property
    def steps(self) -> Rule:
        """The rules applied, built when a printer or a test asks for them (large networks never do)."""
        rule = differentiate(self.expression, self.symbol.wrt)
        if self.identity is None:
            return rule
        return RewriteRule(self.expression, self.symbol.wrt, self.form, rule, self.identity)


@dataclass(frozen=True)
class PathTerm:
    """One path of a chain-rule sum: label = product of factors (e.g. dE_o1/dout_h1 = dE_o1/dnet_o1 dnet_o1/dout_h1)."""

    label: Partial | None
    """dE_k/dout_j when the path ends in an output error E_k of its own; None deeper in the network."""
    factors: tuple[Symbol, ...]


@dataclass(frozen=True)
class Sensitivity:
    """dE_total/dout_j: the loss's local derivative for an output neuron, a sum over paths for a hidden one.

    An output neuron's is named after the part of E_total that holds out_j (`Pass.part`): dE_total/dout_o1
    for a single sample, dE_share[s]/dout_o1[s] for sample s of a mean over a batch (the same derivative,
    as nothing else in E_total depends on out_o1[s]).
    """

    neuron: Neuron
    symbol: Partial
    local: LocalDerivative | None
    paths: tuple[PathTerm, ...]
    form: Expr
    """dE_total/dout_j in named intermediates: the loss's derivative, or sum over k of delta_k w_jk."""
    partial: Partial
    """dE_total/dout_j by that name: `symbol` itself, or defined as `symbol` when that is dE_share[s]/dout_j[s]."""


@dataclass(frozen=True)
class Delta:
    """The node delta: delta_j = dE_total/dnet_j = dE_total/dout_j * dout_j/dnet_j.

    For softmax, every output of the layer depends on net_j, so the delta sums over the
    layer: delta_j = sum_k dE_total/dout_k * dout_k/dnet_j (one term per k in `terms`).
    """

    neuron: Neuron
    symbol: Symbol
    terms: tuple[tuple[Sensitivity, LocalDerivative], ...]
    targets: tuple[Symbol, ...] = ()
    """The sample's targets, for a neuron of the output layer."""

    @property
    def coupled(self) -> bool:
        return len(self.terms) > 1

    @cached_property
    def form(self) -> Expr:
        """The delta in named intermediates: the sum over k of dE/dout_k's form times dout_k/dnet_j's."""
        return fold_sum([fold_product([s.form, d.form]) for s, d in self.terms])

    @cached_property
    def target_sum(self) -> TargetSumForms | None:
        """A coupled output neuron's delta in its targets' sum, and with that sum 1 ((out - target)/N for
        softmax with cross-entropy); None where the Jacobian sum does not reduce so. Built when asked for."""
        if not self.coupled or not self.targets:
            return None
        return target_sum_forms(self.form, self.neuron.out, self.targets[self.neuron.index], self.targets)

    @property
    def sensitivity(self) -> Sensitivity:
        """dE_total/dout_j of this neuron."""
        return next(s for s, _ in self.terms if s.neuron == self.neuron)

    @property
    def activation(self) -> LocalDerivative:
        """dout_j/dnet_j of this neuron."""
        return next(d for s, d in self.terms if s.neuron == self.neuron)


@dataclass(frozen=True)
class Gradient:
    """dE_total/dparameter = sum over the neurons it enters of delta_n * dnet_n/dparameter."""

    parameter: Parameter
    symbol: Partial
    terms: tuple[tuple[Delta, LocalDerivative], ...]

    @cached_property
    def delta_rule(self) -> Expr:
        """The whole gradient in named intermediates, the document's 'delta rule':
        -(target - out) out(1 - out) out_h1 for w_5 (built when a printer asks)."""
        if self.chain is not None:
            delta, link = self.terms[0]
            return fold_product([delta.sensitivity.form, delta.activation.form, link.form])
        return fold_sum([fold_product([delta.symbol, link.form]) for delta, link in self.terms])

    @property
    def chain(self) -> tuple[Partial, ...] | None:
        """dE/dout * dout/dnet * dnet/dparameter, when one neuron's net input holds the parameter."""
        if len(self.terms) != 1 or self.terms[0][0].coupled:
            return None
        delta, local = self.terms[0]
        return delta.sensitivity.symbol, delta.activation.symbol, local.symbol


@dataclass(frozen=True)
class Update:
    """Gradient descent: parameter^+ = parameter - eta * dE_total/dparameter; with a weight penalty
    (derivation/optimizers.py) (1 - eta lambda) parameter - eta * dE_total/dparameter for l2."""

    parameter: Parameter
    symbol: Symbol
    expression: Expr


@dataclass(frozen=True)
class Definition:
    """symbol := expression, one line of the backward pass in evaluation order."""

    symbol: Symbol
    expression: Expr
    layer: int


@dataclass(frozen=True)
class Derivation:
    """Every derivative of E_total for one network, layer by layer from the output back."""

    network: Network
    local_derivatives: tuple[LocalDerivative, ...]
    sensitivities: tuple[Sensitivity, ...]
    deltas: tuple[Delta, ...]
    gradients: tuple[Gradient, ...]
    updates: tuple[Update, ...]
    definitions: tuple[Definition, ...]
    """The backward pass as assignments over named intermediates, output layer first."""

    def gradient(self, parameter: str) -> Gradient:
        """The gradient of a parameter by name: 'w5' or 'w_5'."""
        for gradient in self.gradients:
            if parameter in (gradient.parameter.name, gradient.parameter.symbol.name):
                return gradient
        raise KeyError(parameter)

    def delta(self, neuron: str, sample: int | None = None) -> Delta:
        """The delta of a neuron by label ('o1'), in the first sample's pass unless `sample` is given."""
        for delta in self.deltas:
            if delta.neuron.label == neuron and (sample is None or name_of(delta.symbol).sample == sample):
                return delta
        raise KeyError(neuron)
