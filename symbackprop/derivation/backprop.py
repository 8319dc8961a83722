"""Stage 3: reverse mode over named intermediates.

Walking the layers from the output back, each local expression is differentiated once
per connection (dout/dnet per neuron, dnet_k/dout_j and dnet/dw per connection), and the
deltas of one layer are reused by the layer before it, so the work grows linearly with
the number of connections. The fully composed E_total(w) is never built here.
"""

from __future__ import annotations

from sympy import Expr, Symbol

from symbackprop.derivation.identities import derivative_in_output
from symbackprop.derivation.model import (
    Definition, Delta, Derivation, Gradient, LocalDerivative, PathTerm, Sensitivity, Update,
)
from symbackprop.derivation.rules import RewriteRule, differentiate, fold_product, fold_sum
from symbackprop.network import Network, Neuron, Partial
from symbackprop.network.symbols import delta_symbol, updated_symbol


def local_derivative(of: Symbol, expression: Expr, wrt: Symbol) -> LocalDerivative:
    """d(of)/d(wrt) from `of`'s local expression, rule by rule."""
    steps = differentiate(expression, wrt)
    return LocalDerivative(Partial(of, wrt), expression, steps, steps.result)


def activation_derivative(neuron: Neuron) -> LocalDerivative:
    """dout/dnet, rewritten in terms of out when the activation allows (the logistic's out(1 - out))."""
    steps = differentiate(neuron.out_expression, neuron.net)
    in_output = derivative_in_output(neuron.activation, neuron.net, neuron.out)
    if in_output is not None:
        steps = RewriteRule(neuron.out_expression, neuron.net, in_output, steps, neuron.activation.name)
    return LocalDerivative(Partial(neuron.out, neuron.net), neuron.out_expression, steps, steps.result)


def derive(network: Network) -> Derivation:
    """The derivation of dE_total/dp for every parameter p of the network."""
    return _Backward(network).run()


class _Backward:
    """Collects the records and the evaluation-ordered definitions while walking back."""

    def __init__(self, network: Network):
        self.network = network
        self.locals: list[LocalDerivative] = []
        self.sensitivities: list[Sensitivity] = []
        self.deltas: dict[str, Delta] = {}
        self.gradients: list[Gradient] = []
        self.updates: list[Update] = []
        self.definitions: list[Definition] = []
        self.layer = len(network.layers) - 1

    def define(self, symbol: Symbol, expression: Expr) -> None:
        self.definitions.append(Definition(symbol, expression, self.layer))

    def local(self, derivative: LocalDerivative) -> LocalDerivative:
        self.locals.append(derivative)
        self.define(derivative.symbol, derivative.form)
        return derivative

    def run(self) -> Derivation:
        layers = self.network.layers
        for self.layer in reversed(range(len(layers))):
            for neuron in layers[self.layer].neurons:
                self.delta(neuron, self.sensitivity(neuron))
            for row in layers[self.layer].weights:
                for parameter in row:
                    self.gradient(parameter)
            for parameter in layers[self.layer].biases:
                self.gradient(parameter)
        order = {p.name: k for k, p in enumerate(self.network.parameters)}
        gradients = sorted(self.gradients, key=lambda g: order[g.parameter.name])
        updates = sorted(self.updates, key=lambda u: order[u.parameter.name])
        deltas = [self.deltas[n.label] for n in self.network.neurons]
        return Derivation(self.network, tuple(self.locals), tuple(self.sensitivities), tuple(deltas),
                          tuple(gradients), tuple(updates), tuple(self.definitions))

    def sensitivity(self, neuron: Neuron) -> Sensitivity:
        total = self.network.total
        if self.layer == len(self.network.layers) - 1:
            loss = self.local(local_derivative(total, self.network.loss_expression, neuron.out))
            result = Sensitivity(neuron, loss.symbol, loss, ())
        else:
            paths = tuple(self.path(neuron, k) for k in self.network.layers[self.layer + 1].neurons)
            symbol = Partial(total, neuron.out)
            self.define(symbol, fold_sum([p.label if p.label is not None else fold_product(list(p.factors))
                                          for p in paths]))
            result = Sensitivity(neuron, symbol, None, paths)
        self.sensitivities.append(result)
        return result

    def path(self, neuron: Neuron, downstream: Neuron) -> PathTerm:
        """How out_j reaches E_total through net_k: dE/dnet_k * dnet_k/dout_j."""
        link = self.local(local_derivative(downstream.net, downstream.net_expression, neuron.out))
        error = self._error_of(downstream)
        if error is None:
            return PathTerm(None, (self.deltas[downstream.label].symbol, link.symbol))
        head, label = self._error_delta(error, downstream), Partial(error.symbol, neuron.out)
        self.define(label, fold_product([head, link.symbol]))
        return PathTerm(label, (head, link.symbol))

    def _error_of(self, neuron: Neuron):
        """The output error E_k that alone depends on neuron k, if k is an output neuron."""
        for error in self.network.errors:
            if error.neuron == neuron:
                return error
        return None

    def _error_delta(self, error, neuron: Neuron) -> Partial:
        """dE_k/dnet_k = dE_k/dout_k * dout_k/dnet_k, the document's route to the hidden layer."""
        symbol = Partial(error.symbol, neuron.net)
        if all(d.symbol != symbol for d in self.definitions):
            own = self.local(local_derivative(error.symbol, error.expression, neuron.out))
            self.define(symbol, fold_product([own.symbol, self.deltas[neuron.label].activation.symbol]))
        return symbol

    def delta(self, neuron: Neuron, sensitivity: Sensitivity) -> None:
        activation = self.local(activation_derivative(neuron))
        symbol = delta_symbol(neuron.label)
        self.define(symbol, fold_product([sensitivity.symbol, activation.symbol]))
        partial = Partial(self.network.total, neuron.net)
        self.define(partial, symbol)
        self.deltas[neuron.label] = Delta(neuron, symbol, partial, sensitivity, activation)

    def gradient(self, parameter) -> None:
        layer = self.network.layers[self.layer]
        terms = []
        for index in parameter.neurons:
            neuron = layer.neurons[index]
            link = self.local(local_derivative(neuron.net, neuron.net_expression, parameter.symbol))
            terms.append((self.deltas[neuron.label], link))
        symbol = Partial(self.network.total, parameter.symbol)
        self.define(symbol, fold_sum([fold_product([d.symbol, link.symbol]) for d, link in terms]))
        self.gradients.append(Gradient(parameter, symbol, tuple(terms), self._delta_rule(terms)))
        if parameter in self.network.trainable:
            update = Update(parameter, updated_symbol(parameter.symbol),
                            parameter.symbol - self.network.learning_rate * symbol)
            self.define(update.symbol, update.expression)
            self.updates.append(update)

    def _delta_rule(self, terms) -> Expr:
        """The gradient written out in named intermediates, the document's 'delta rule' form."""
        if len(terms) == 1:
            delta, link = terms[0]
            sensitivity = delta.sensitivity
            if sensitivity.local is not None:
                outer = sensitivity.local.form
            else:
                outer = fold_sum([fold_product([self._head_delta(p), _form_of(self.locals, p.factors[-1])])
                                  for p in sensitivity.paths])
            return fold_product([outer, delta.activation.form, link.form])
        return fold_sum([fold_product([d.symbol, link.form]) for d, link in terms])

    def _head_delta(self, path: PathTerm) -> Symbol:
        """The delta of the downstream neuron a path runs through."""
        link = path.factors[-1]
        for delta in self.deltas.values():
            if delta.neuron.net == link.of:
                return delta.symbol
        raise KeyError(link)


def _form_of(locals_: list[LocalDerivative], symbol: Partial) -> Expr:
    for derivative in locals_:
        if derivative.symbol == symbol:
            return derivative.form
    raise KeyError(symbol)
