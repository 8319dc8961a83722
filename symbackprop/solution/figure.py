"""The network as a figure: nodes and edges with positions, laid out once for every renderer.

Columns from left to right: the inputs, then each layer; a layer's biases sit in a row below
the tallest column, between the layer and the column that feeds it. Every weight is an edge
from its source to its neuron, every bias an edge from its bias node; an edge carries its
parameter's symbol and, in the full figure, its value as the numbers stage printed it. A
path figure highlights what a derivative of the loss runs through. Coordinates are in
column and row units, y downwards; renderers scale them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sympy import Expr, Symbol

from symbackprop.derivation import Gradient
from symbackprop.network import Network, Parameter
from symbackprop.network.symbols import input_symbol

INPUT, NEURON, BIAS = "input", "neuron", "bias"


@dataclass(frozen=True)
class Node:
    """An input, a neuron or a bias node, drawn at (x, y) with `label` inside."""

    key: str
    label: Symbol
    kind: str
    x: float
    y: float
    highlighted: bool = False


@dataclass(frozen=True)
class Edge:
    """A weight or bias edge from node `source` to node `target`, its label drawn at `at`."""

    source: str
    target: str
    parameter: Symbol
    label: Symbol | None
    """The symbol written on the edge; None on a bias edge, whose node already names it."""
    value: str | None
    """The parameter's value as printed by the numbers stage; None in a path figure."""
    at: tuple[float, float]
    highlighted: bool = False


@dataclass(frozen=True)
class Figure:
    """A captioned drawing of the network; `symbol`, when given, is printed after the title."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    symbol: Expr | None = None

    @property
    def width(self) -> float:
        return max(node.x for node in self.nodes)

    @property
    def height(self) -> float:
        return max(node.y for node in self.nodes)

    def node(self, key: str) -> Node:
        return next(node for node in self.nodes if node.key == key)

    @property
    def path(self) -> tuple[Edge, ...]:
        """The highlighted edges, in drawing order."""
        return tuple(edge for edge in self.edges if edge.highlighted)


def network_figure(network: Network, numerals: Mapping[Symbol, str]) -> Figure:
    """Every input, neuron and bias, every edge labelled with its parameter and value."""
    nodes, edges = _layout(network, numerals, _Path())
    return Figure("The network, every weight and bias with its value", nodes, edges)


def path_figure(network: Network, gradient: Gradient) -> Figure:
    """The edges and nodes that dE_total/dp runs through: p's own edges and everything downstream."""
    nodes, edges = _layout(network, None, _path(network, gradient.parameter))
    return Figure("Paths of", nodes, edges, gradient.symbol)


@dataclass(frozen=True)
class _Path:
    """What to highlight: the parameter's edges, the node they start from, and the neurons reached."""

    parameter: str | None = None
    start: str | None = None
    reached: frozenset[str] = frozenset()

    def lit(self, key: str) -> bool:
        return key == self.start or key in self.reached


def _layout(network: Network, numerals: Mapping[Symbol, str] | None,
            path: _Path) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """Nodes and edges, with the labels' positions; values only when `numerals` are given."""
    columns = [[input_symbol(k + 1).name for k in range(len(network.passes[0].inputs))]]
    columns += [[neuron.label for neuron in layer.neurons] for layer in network.layers]
    rows = max(len(column) for column in columns)
    at = {key: (float(x), (rows - len(column)) / 2 + y) for x, column in enumerate(columns)
          for y, key in enumerate(column)}
    nodes = [Node(key, input_symbol(k + 1), INPUT, *at[key], path.lit(key)) for k, key in enumerate(columns[0])]
    nodes += [Node(neuron.label, Symbol(neuron.label), NEURON, *at[neuron.label], path.lit(neuron.label))
              for neuron in network.neurons]
    edges = []
    for index, layer in enumerate(network.layers):
        sources, targets = columns[index], columns[index + 1]
        for j, row in enumerate(layer.weights):
            share = j / (len(targets) - 1) if len(targets) > 1 else 0.5
            for k, weight in enumerate(row):
                on = weight.name == path.parameter or sources[k] in path.reached
                edges.append(_edge(sources[k], targets[j], weight, weight.symbol, numerals, 0.25 + 0.5 * share, at, on))
        for b, bias in enumerate(layer.biases):
            key = bias.symbol.name
            at[key] = (index + (b + 1) / (len(layer.biases) + 1), float(rows))
            on = bias.name == path.parameter
            nodes.append(Node(key, bias.symbol, BIAS, *at[key], on))
            edges += [_edge(key, targets[j], bias, None, numerals, 0.3, at, on) for j in bias.neurons]
    return tuple(nodes), tuple(edges)


def _edge(source: str, target: str, parameter: Parameter, label: Symbol | None,
          numerals: Mapping[Symbol, str] | None, share: float, at: dict[str, tuple[float, float]],
          highlighted: bool) -> Edge:
    """An edge whose label sits `share` of the way from source to target."""
    (x0, y0), (x1, y1) = at[source], at[target]
    where = (round(x0 + share * (x1 - x0), 3), round(y0 + share * (y1 - y0), 3))
    value = None if numerals is None else numerals[parameter.symbol]
    return Edge(source, target, parameter.symbol, label, value, where, highlighted)


def _path(network: Network, parameter: Parameter) -> _Path:
    """The parameter, the node its edges start from, and every neuron its change reaches.

    Its own neurons, the rest of their layer when the activation couples the layer
    (softmax), and every neuron of the layers after it (the layers are fully connected).
    """
    layers = network.layers
    layer = layers[parameter.layer]
    reached = {layer.neurons[j].label for j in parameter.neurons}
    if layer.neurons[0].activation.coupled:
        reached = {neuron.label for neuron in layer.neurons}
    reached |= {neuron.label for later in layers[parameter.layer + 1:] for neuron in later.neurons}
    if parameter.is_bias:
        start = parameter.symbol.name
    else:
        row = next(row for row in layer.weights if parameter in row)
        sources = [input_symbol(k + 1).name for k in range(len(row))] if parameter.layer == 0 else \
            [neuron.label for neuron in layers[parameter.layer - 1].neurons]
        start = sources[row.index(parameter)]
    return _Path(parameter.name, start, frozenset(reached))
