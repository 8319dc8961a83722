"""Stage 3: reverse mode over named intermediates.

Walking the layers from the output back, each local expression is differentiated once
per connection (dout/dnet per neuron, dnet_k/dout_j and dnet/dw per connection), and the
deltas of one layer are reused by the layer before it, so the work grows linearly with
the number of connections (and with the number of samples of a batch). The fully
composed E_total(w) is never built here.
"""

from __future__ import annotations

from sympy import Add, Expr, Mul, Symbol

from symbackprop.derivation.identities import derivative_in_output, layer_derivative_in_outputs
from symbackprop.derivation.model import (
    Definition, Delta, Derivation, Gradient, LocalDerivative, PathTerm, Sensitivity, Update,
)
from symbackprop.derivation.optimizers import penalized, penalty, sgd_update
from symbackprop.derivation.rules import differentiate, fold_product, fold_sum
from symbackprop.memory import cycle_collector_paused
from symbackprop.network import Network, Neuron, OutputError, Parameter, Partial, Pass
from symbackprop.network.symbols import delta_symbol, updated_symbol


def local_derivative(of: Symbol, expression: Expr, wrt: Symbol, term: Expr | None = None) -> LocalDerivative:
    """d(of)/d(wrt) from `of`'s local expression.

    `term`, when given, is the only term of the sum `expression` that holds `wrt` (a net input's
    w_k x_k): differentiating it alone gives the same result in constant time per connection.
    """
    result = differentiate(expression if term is None else term, wrt).result
    return LocalDerivative(Partial(of, wrt), expression, result)


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
        return _Backward(network).run()


class _Backward:
    """Collects the records and the evaluation-ordered definitions while walking back."""

    def __init__(self, network: Network):
        self.network = network
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
        self.terms: dict[Symbol, dict[Symbol, Expr | None]] = {}
        """Per net input: each symbol to the one term of the sum that holds it (None if several do)."""

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
                sensitivities = [self.sensitivity(one, neuron, index) for neuron in neurons]
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
        """dE_total/dout_j: from the loss for an output neuron, a sum over paths for a hidden one."""
        if layer == len(self.network.layers) - 1:
            loss = self.local(local_derivative(one.part, self._loss_of(one), neuron.out), layer)
            partial = Partial(self.network.total, neuron.out)
            if one.part != self.network.total:
                self.define(partial, loss.symbol, layer)
            result = Sensitivity(neuron, loss.symbol, loss, (), loss.form, partial)
        else:
            paths = tuple(self.path(one, neuron, k, layer) for k in one.layers[layer + 1].neurons)
            symbol = Partial(self.network.total, neuron.out)
            self.define(symbol, fold_sum([p.label if p.label is not None else fold_product(list(p.factors))
                                          for p in paths]), layer)
            form = fold_sum([fold_product([self.deltas[p.factors[-1].of].symbol, self.forms[p.factors[-1]]])
                             for p in paths])
            result = Sensitivity(neuron, symbol, None, paths, form, symbol)
        self.sensitivities.append(result)
        return result

    def net_derivative(self, neuron: Neuron, wrt: Symbol) -> LocalDerivative:
        """dnet/d(weight, bias or upstream out): the net input's one term that holds it, differentiated."""
        if neuron.net not in self.terms:
            terms: dict[Symbol, Expr | None] = {}
            for term in Add.make_args(neuron.net_expression):
                for symbol in term.free_symbols:
                    terms[symbol] = None if symbol in terms else term
            self.terms[neuron.net] = terms
        return local_derivative(neuron.net, neuron.net_expression, wrt, self.terms[neuron.net].get(wrt))

    def _loss_of(self, one: Pass) -> Expr:
        """The part of E_total that holds this pass's outputs (`Pass.part`), written out in its targets and
        outputs: all of E_total for a single sample, (1/N) times the sample's loss in a mean over a batch."""
        scale = self.network.loss_scale
        return one.loss_expression if scale == 1 else Mul(scale, one.loss_expression, evaluate=False)

    def path(self, one: Pass, neuron: Neuron, downstream: Neuron, layer: int) -> PathTerm:
        """How out_j reaches E_total through net_k: dE/dnet_k * dnet_k/dout_j."""
        link = self.local(self.net_derivative(downstream, neuron.out), layer)
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

    def delta(self, one: Pass, neuron: Neuron, sensitivities: list[Sensitivity], layer: int) -> None:
        neurons = one.layers[layer].neurons
        if neuron.activation.coupled:
            terms = tuple((s, self.local(activation_derivative(k, neuron, neurons), layer))
                          for k, s in zip(neurons, sensitivities))
        else:
            terms = ((sensitivities[neuron.index], self.local(activation_derivative(neuron), layer)),)
        symbol = delta_symbol(neuron.label, one.sample)
        self.define(symbol, fold_sum([fold_product([s.symbol, d.symbol]) for s, d in terms]), layer)
        self.define(Partial(self.network.total, neuron.net), symbol, layer)
        targets = one.targets if layer == len(self.network.layers) - 1 else ()
        self.deltas[neuron.net] = Delta(neuron, symbol, terms, targets)

    def gradient(self, parameter: Parameter, layer: int) -> None:
        terms = []
        for one in self.network.passes:
            neurons = one.layers[layer].neurons
            for index in parameter.neurons:
                neuron = neurons[index]
                link = self.local(self.net_derivative(neuron, parameter.symbol), layer)
                terms.append((self.deltas[neuron.net], link))
        symbol = Partial(self.network.total, parameter.symbol)
        self.define(symbol, fold_sum([fold_product([d.symbol, link.symbol]) for d, link in terms]), layer)
        self.gradients.append(Gradient(parameter, symbol, tuple(terms)))
        if parameter in self.trainable:
            expression = sgd_update(parameter.symbol, symbol, penalized(parameter.is_bias, self.penalty))
            update = Update(parameter, updated_symbol(parameter.symbol), expression)
            self.define(update.symbol, update.expression, layer)
            self.updates.append(update)
