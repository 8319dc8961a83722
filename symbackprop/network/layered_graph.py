"""The fully connected network as a computation graph: its front end to the one reverse-mode engine.

Each pass's net inputs and outputs become graph nodes with the network's own local expressions,
layer by layer (every pass's layer l before any layer l + 1), then each pass's part of E_total
(`Pass.part`) written out in its targets and outputs, and with a batch E_total as the sum of the
parts. Inputs, targets and parameters are the leaves. The annotations say which node is which
neuron's net or out in which pass, so that the derivation can speak of net, out, δ and paths as
the document does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Mul, Symbol

from symbackprop.network.graph import Graph, GraphNode
from symbackprop.network.model import Network, Neuron, Pass
from symbackprop.network.unevaluated import unevaluated_sum
from symbackprop.spec.graph import GraphSpec


@dataclass(frozen=True)
class LayeredGraph:
    graph: Graph
    neurons: dict[Symbol, tuple[Pass, Neuron]]
    """Every neuron's net and out symbol, to its pass and the neuron."""


def layered_graph(network: Network) -> LayeredGraph:
    """The network's graph: net and out nodes layer by layer, then the loss; the parameters as leaves."""
    nodes: list[GraphNode] = []
    neurons: dict[Symbol, tuple[Pass, Neuron]] = {}
    for index in range(len(network.layers)):
        for one in network.passes:
            layer = one.layers[index]
            sources = one.inputs if index == 0 else tuple(n.out for n in one.layers[index - 1].neurons)
            nets = tuple(n.net for n in layer.neurons)
            for neuron, row in zip(layer.neurons, layer.weights):
                uses = [symbol for weight, source in zip(row, sources) for symbol in (weight.symbol, source)]
                uses += [bias.symbol for bias in layer.biases if neuron.index in bias.neurons]
                nodes.append(GraphNode(neuron.net, neuron.net_expression, tuple(uses)))
                neurons[neuron.net] = neurons[neuron.out] = (one, neuron)
            for neuron in layer.neurons:
                uses = nets if neuron.activation.coupled else (neuron.net,)
                nodes.append(GraphNode(neuron.out, neuron.out_expression, uses))
    nodes += [_node(one.part, _loss_of(network, one)) for one in network.passes]
    if len(network.passes) > 1:
        nodes.append(_node(network.total, unevaluated_sum([one.part for one in network.passes])))
    values = {**network.point()}
    del values[network.learning_rate]
    spec = GraphSpec(network.spec.name, values, tuple(p.symbol for p in network.trainable),
                     tuple((node.symbol, node.expression) for node in nodes), network.total,
                     network.spec.learning_rate)
    return LayeredGraph(Graph(spec, tuple(nodes)), neurons)


def _loss_of(network: Network, one: Pass) -> Expr:
    """The part of E_total that holds this pass's outputs (`Pass.part`), written out in its targets and
    outputs: all of E_total for a single sample, (1/N) times the sample's loss in a mean over a batch."""
    scale = network.loss_scale
    return one.loss_expression if scale == 1 else Mul(scale, one.loss_expression, evaluate=False)


def _node(symbol: Symbol, expression: Expr) -> GraphNode:
    return GraphNode(symbol, expression, tuple(sorted(expression.free_symbols, key=str)))
