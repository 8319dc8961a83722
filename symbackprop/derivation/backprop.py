"""Stage 3: the fully connected network's derivation, from the one reverse-mode engine.

The network's front end (`network/layered_graph.py`) makes it a computation graph, and the graph
engine (`derivation/graph.py`) gives every net, out and parameter its adjoint, each local
expression differentiated once per connection (a net input's one term that holds the symbol,
an activation's derivative written in its outputs), so the work grows linearly with the number
of connections and samples. This module lays those adjoints out in the document's language,
output layer first: dE_total/dout_j (from the loss, or a sum over paths), δ_j (the adjoint of
net_j), dE_total/dw (the adjoint of w, a sum over its uses when shared) and the updates. The
fully composed E_total(w) is never built here.
"""

from __future__ import annotations

from sympy import Add, Expr, Symbol

from symbackprop.derivation.graph import Adjoint, derive_graph, local_derivative
from symbackprop.derivation.identities import derivative_in_output, layer_derivative_in_outputs
from symbackprop.derivation.model import (
    Definition, Delta, Derivation, Gradient, LocalDerivative, PathTerm, Sensitivity, Update,
)
from symbackprop.derivation.optimizers import penalized, penalty, sgd_update
from symbackprop.derivation.rules import differentiate, fold_product, fold_sum
from symbackprop.memory import cycle_collector_paused
from symbackprop.network import Network, Neuron, OutputError, Parameter, Partial, Pass
from symbackprop.network.graph import GraphNode
from symbackprop.network.layered_graph import LayeredGraph, layered_graph
from symbackprop.network.symbols import delta_symbol, updated_symbol


def activation_derivative(neuron: Neuron, source: Neuron | None = None,
                          layer: tuple[Neuron, ...] = ()) -> LocalDerivative:
    """dout/dnet, or dout_k/dnet_j of a softmax `layer` with `source` = j, rewritten in outputs
    where the activation allows: out(1 - out) for the logistic, 1 - out^2 for tanh,
    out_k(1 - out_k) or -out_k out_j for softmax.
    """
    source = source or neuron
    if neuron.activation.coupled:
        in_output = layer_derivative_in_outputs(neuron.activation, [n.out for n in layer], neuron.index, source.index)
    else:
        in_output = derivative_in_output(neuron.activation, neuron.net, neuron.out)
    symbol = Partial(neuron.out, source.net)
    if in_output is not None:
        return LocalDerivative(symbol, neuron.out_expression, in_output, neuron.activation.name)
    return LocalDerivative(symbol, neuron.out_expression, differentiate(neuron.out_expression, source.net).result)


def derive(network: Network) -> Derivation:
    """The derivation of dE_total/dp for every parameter p of the network."""
    with cycle_collector_paused():
        front = layered_graph(network)
        engine = derive_graph(front.graph, _LocalRule(front), [p.symbol for p in network.parameters])
        return _Layout(network, {adjoint.quantity: adjoint for adjoint in engine.adjoints}).run()


class _LocalRule:
    """The engine's local rule for the network's graph: an activation's derivative in its outputs
    (`activation_derivative`), a net input's by its one term that holds the symbol, the loss's as is."""

    def __init__(self, front: LayeredGraph):
        self.front = front
        self.terms: dict[Symbol, dict[Symbol, Expr | None]] = {}
        """Per net input: each symbol to the one term of the sum that holds it (None if several do)."""

    def __call__(self, user: GraphNode, quantity: Symbol) -> LocalDerivative:
        found = self.front.neurons.get(user.symbol)
        if found is None:  # a part of the loss
            return local_derivative(user.symbol, user.expression, quantity)
        one, neuron = found
        if user.symbol == neuron.out:
            return activation_derivative(neuron, self.front.neurons[quantity][1], one.layers[neuron.layer].neurons)
        if neuron.net not in self.terms:
            terms: dict[Symbol, Expr | None] = {}
            for term in Add.make_args(neuron.net_expression):
                for symbol in term.free_symbols:
                    terms[symbol] = None if symbol in terms else term
            self.terms[neuron.net] = terms
        return local_derivative(neuron.net, neuron.net_expression, quantity, self.terms[neuron.net].get(quantity))


class _Layout:
    """The engine's adjoints as the document's records, and the backward pass as evaluation-ordered
    definitions: layer by layer from the output back, each sample's pass in turn, then the layer's
    gradients and updates."""

    def __init__(self, network: Network, adjoints: dict[Symbol, Adjoint]):
        self.network = network
        self.adjoints = adjoints
        self.locals: list[LocalDerivative] = []
        self.sensitivities: list[Sensitivity] = []
        self.deltas: dict[Symbol, Delta] = {}
        """By the neuron's net symbol, which is unique across passes."""
        self.gradients: list[Gradient] = []
        self.updates: list[Update] = []
        self.definitions: list[Definition] = []
        self.defined: set[Symbol] = set()
        self.forms: dict[Partial, Expr] = {}
        self.trainable = set(network.trainable)
        self.penalty = penalty(network.spec.regularization)

    def define(self, symbol: Symbol, expression: Expr, layer: int) -> None:
        """Record `symbol = expression`, evaluated while the backward pass is at `layer`."""
        self.definitions.append(Definition(symbol, expression, layer))
        self.defined.add(symbol)

    def local(self, derivative: LocalDerivative, layer: int) -> LocalDerivative:
        self.locals.append(derivative)
        self.forms[derivative.symbol] = derivative.form
        self.define(derivative.symbol, derivative.form, layer)
        return derivative

    def run(self) -> Derivation:
        for index in reversed(range(len(self.network.layers))):
            for one in self.network.passes:
                neurons = one.layers[index].neurons
                sensitivities = {neuron.out: self.sensitivity(one, neuron, index) for neuron in neurons}
                for neuron in neurons:
                    self.delta(one, neuron, sensitivities, index)
            layer = self.network.layers[index]
            for parameter in [p for row in layer.weights for p in row] + list(layer.biases):
                self.gradient(parameter, index)
        order = {p.name: k for k, p in enumerate(self.network.parameters)}
        gradients = sorted(self.gradients, key=lambda g: order[g.parameter.name])
        updates = sorted(self.updates, key=lambda u: order[u.parameter.name])
        deltas = [self.deltas[n.net] for one in self.network.passes for layer in one.layers for n in layer.neurons]
        return Derivation(self.network, tuple(self.locals), tuple(self.sensitivities), tuple(deltas),
                          tuple(gradients), tuple(updates), tuple(self.definitions))

    def sensitivity(self, one: Pass, neuron: Neuron, layer: int) -> Sensitivity:
        """dE_total/dout_j, the adjoint of out_j: the loss's local derivative for an output neuron (named
        after the pass's part of E_total), a sum over paths through the next layer for a hidden one."""
        adjoint = self.adjoints[neuron.out]
        if layer == len(self.network.layers) - 1:
            ((_, loss),) = adjoint.terms
            self.local(loss, layer)
            if one.part != self.network.total:
                self.define(adjoint.symbol, loss.symbol, layer)
            result = Sensitivity(neuron, loss.symbol, loss, (), loss.form, adjoint.symbol)
        else:
            paths = tuple(self.path(one, neuron, self.deltas[upstream.wrt].neuron, link, layer)
                          for upstream, link in adjoint.terms)
            self.define(adjoint.symbol, fold_sum([p.label if p.label is not None else fold_product(list(p.factors))
                                                  for p in paths]), layer)
            form = fold_sum([fold_product([self.deltas[p.factors[-1].of].symbol, self.forms[p.factors[-1]]])
                             for p in paths])
            result = Sensitivity(neuron, adjoint.symbol, None, paths, form, adjoint.symbol)
        self.sensitivities.append(result)
        return result

    def path(self, one: Pass, neuron: Neuron, downstream: Neuron, link: LocalDerivative, layer: int) -> PathTerm:
        """How out_j reaches E_total through net_k: dE/dnet_k * dnet_k/dout_j."""
        self.local(link, layer)
        error = self._error_of(one, downstream)
        if error is None:
            return PathTerm(None, (self.deltas[downstream.net].symbol, link.symbol))
        head, label = self._error_delta(error, downstream, layer), Partial(error.symbol, neuron.out)
        self.define(label, fold_product([head, link.symbol]), layer)
        return PathTerm(label, (head, link.symbol))

    def _error_of(self, one: Pass, neuron: Neuron) -> OutputError | None:
        """The output error E_k that alone depends on neuron k: an output neuron of a single-sample,
        uncoupled network, as in the document."""
        if neuron.activation.coupled or len(self.network.passes) > 1:
            return None
        return next((error for error in one.errors if error.neuron == neuron), None)

    def _error_delta(self, error: OutputError, neuron: Neuron, layer: int) -> Partial:
        """dE_k/dnet_k = dE_k/dout_k * dout_k/dnet_k, the document's route to the hidden layer."""
        symbol = Partial(error.symbol, neuron.net)
        if symbol not in self.defined:
            own = self.local(local_derivative(error.symbol, error.expression, neuron.out), layer)
            self.define(symbol, fold_product([own.symbol, self.deltas[neuron.net].activation.symbol]), layer)
        return symbol

    def delta(self, one: Pass, neuron: Neuron, sensitivities: dict[Symbol, Sensitivity], layer: int) -> None:
        """δ_j, the adjoint of net_j: dE_total/dout_j * dout_j/dnet_j, or for softmax a sum over the outputs
        of the layer, each dE_total/dout_k * dout_k/dnet_j."""
        adjoint = self.adjoints[neuron.net]
        terms = tuple((sensitivities[upstream.wrt], self.local(local, layer)) for upstream, local in adjoint.terms)
        symbol = delta_symbol(neuron.label, one.sample)
        self.define(symbol, fold_sum([fold_product([s.symbol, d.symbol]) for s, d in terms]), layer)
        self.define(adjoint.symbol, symbol, layer)
        targets = one.targets if layer == len(self.network.layers) - 1 else ()
        self.deltas[neuron.net] = Delta(neuron, symbol, terms, targets)

    def gradient(self, parameter: Parameter, layer: int) -> None:
        """dE_total/dp, the adjoint of p: one term δ_n * dnet_n/dp per net input it enters, in every pass."""
        adjoint = self.adjoints[parameter.symbol]
        terms = tuple((self.deltas[upstream.wrt], self.local(link, layer)) for upstream, link in adjoint.terms)
        self.define(adjoint.symbol, fold_sum([fold_product([d.symbol, link.symbol]) for d, link in terms]), layer)
        self.gradients.append(Gradient(parameter, adjoint.symbol, terms))
        if parameter in self.trainable:
            expression = sgd_update(parameter.symbol, adjoint.symbol, penalized(parameter.is_bias, self.penalty))
            update = Update(parameter, updated_symbol(parameter.symbol), expression)
            self.define(update.symbol, update.expression, layer)
            self.updates.append(update)
