"""The network as a figure: nodes and edges with positions, laid out once for every renderer.

Columns from left to right: the inputs, then each layer; a layer's biases sit in a row below
the tallest column, between the layer and the column that feeds it. Every weight is an edge
from its source to its neuron, labelled with its symbol and, in the full figure, its value
as the numbers stage printed it; a bias node carries its own symbol and value, and has an
edge to each neuron it enters. A path figure highlights what a derivative of the loss runs
through. Coordinates are in column and row units, y downwards; renderers scale them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sympy import Expr, Symbol

from symbackprop.derivation import Gradient
from symbackprop.network import Network, Parameter
from symbackprop.network.symbols import input_symbol

INPUT, NEURON, BIAS = "input", "neuron", "bias"
LEAF, NODE = "leaf", "node"
"""A computation graph's kinds of node: a value given by the spec, and a named intermediate."""
CHARACTER, LINE_HEIGHT = 0.04, 0.2
"""A label's width per character in column widths, and its height in row heights: both renderers draw
at about this scale."""


@dataclass(frozen=True)
class Node:
    """An input, a neuron or a bias node (or a graph's leaf or intermediate), drawn at (x, y) with `label` inside."""

    key: str
    label: Symbol
    kind: str
    x: float
    y: float
    highlighted: bool = False
    value: str | None = None
    """A bias node's value as printed by the numbers stage, in the full figure (a graph's loss: its value)."""


@dataclass(frozen=True)
class Edge:
    """A weight or bias edge from node `source` to node `target`; in a computation graph, one use of a name."""

    source: str
    target: str
    parameter: Symbol | None
    """The weight or bias; None on a graph's edge, which is labelled by its value and gradient alone."""
    value: str | None
    """A weight's value as printed by the numbers stage, in the full figure; on a graph's edge, the value
    that flows along it (its source's), drawn above the edge."""
    at: tuple[float, float] | None
    """Where the weight's label goes; None on a bias edge, whose node carries symbol and value."""
    highlighted: bool = False
    gradient: str | None = None
    """On a graph's edge, this use's share of the source's gradient (upstream times local), drawn below."""
    via: tuple[tuple[float, float], ...] = ()
    """The bends of an edge that spans several columns, one per column it passes, from source to target."""


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

    def ends(self, edge: Edge) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where an edge starts and ends: the centres of its two nodes."""
        source, target = self.node(edge.source), self.node(edge.target)
        return (source.x, source.y), (target.x, target.y)

    def route(self, edge: Edge) -> tuple[tuple[float, float], ...]:
        """The points an edge is drawn through: its start, its bends, its end."""
        start, end = self.ends(edge)
        return (start, *edge.via, end)

    @property
    def path(self) -> tuple[Edge, ...]:
        """The highlighted edges, in drawing order."""
        return tuple(edge for edge in self.edges if edge.highlighted)


def network_figure(network: Network, numerals: Mapping[Symbol, str]) -> Figure:
    """Every input, neuron and bias, every weight and bias labelled with its value."""
    nodes, edges = _layout(network, numerals, None, frozenset())
    return Figure("The network, every weight and bias with its value", nodes, edges)


def path_figure(network: Network, gradient: Gradient) -> Figure:
    """The edges and nodes that dE_total/dp runs through: p's own edges and everything downstream."""
    nodes, edges = _layout(network, None, gradient.parameter.name, _reached(network, gradient.parameter))
    return Figure("Paths of", nodes, edges, gradient.symbol)


Paths = tuple[frozenset[str], frozenset[tuple[str, str]]]
"""The keys of the nodes and the edges (source, target) a derivative runs through, as a path figure lights them."""


def gradient_paths(network: Network, parameter: Parameter) -> Paths:
    """What `path_figure` lights for dE_total/dp, without laying the figure out."""
    return _paths(network, parameter.name, _reached(network, parameter))


def downstream_paths(network: Network, key: str) -> Paths:
    """What a change of an input or of a neuron's net input (by its key in the figure) runs through to the loss:
    the edges leaving it and everything downstream, lit as for a parameter."""
    for index, layer in enumerate(network.layers):
        if key in (labels := {neuron.label for neuron in layer.neurons}):
            return _paths(network, None, _downstream(network, index, labels & {key}))
    return _paths(network, None, frozenset({key, *(neuron.label for neuron in network.neurons)}))  # an input


def _paths(network: Network, parameter: str | None, reached: frozenset[str]) -> Paths:
    """The edges of `parameter` and every edge leaving a node in `reached`; the nodes those edges start from,
    and those in `reached`."""
    sources = [input_symbol(k + 1).name for k in range(len(network.passes[0].inputs))]
    edges = set()
    for layer in network.layers:
        targets = [neuron.label for neuron in layer.neurons]
        edges |= {(sources[k], targets[j]) for j, row in enumerate(layer.weights) for k, weight in enumerate(row)
                  if weight.name == parameter or sources[k] in reached}
        edges |= {(bias.symbol.name, targets[j]) for bias in layer.biases if bias.name == parameter for j in bias.neurons}
        sources = targets
    return reached | {source for source, _ in edges}, frozenset(edges)


def _layout(network: Network, numerals: Mapping[Symbol, str] | None, parameter: str | None,
            reached: frozenset[str]) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """Nodes and edges, values only when `numerals` are given.

    Highlighted: what `_paths` lights for `parameter` and `reached`.
    """
    lit, lit_edges = _paths(network, parameter, reached)
    columns = [[input_symbol(k + 1).name for k in range(len(network.passes[0].inputs))]]
    columns += [[neuron.label for neuron in layer.neurons] for layer in network.layers]
    rows = max(len(column) for column in columns)
    at = {key: (float(x), (rows - len(column)) / 2 + y) for x, column in enumerate(columns)
          for y, key in enumerate(column)}
    labels = {key: input_symbol(k + 1) for k, key in enumerate(columns[0])}
    labels |= {neuron.label: Symbol(neuron.label) for neuron in network.neurons}
    kinds = {key: INPUT for key in columns[0]} | {neuron.label: NEURON for neuron in network.neurons}
    values: dict[str, str | None] = {}
    edges: list[Edge] = []
    boxes: list[tuple[float, float, float, float]] = []
    for index, layer in enumerate(network.layers):
        sources, targets = columns[index], columns[index + 1]
        for j, row in enumerate(layer.weights):
            preferred = 0.3 + 0.4 * (j / (len(targets) - 1) if len(targets) > 1 else 0.5)
            for k, weight in enumerate(row):
                value = _value(weight, numerals)
                width = CHARACTER * (len(weight.symbol.name) + (len(value) + 3 if value else 0))
                label_at = place_label(at[sources[k]], at[targets[j]], preferred, width, boxes)
                on = (sources[k], targets[j]) in lit_edges
                edges.append(Edge(sources[k], targets[j], weight.symbol, value, label_at, on))
        for b, bias in enumerate(layer.biases):
            key = bias.symbol.name
            at[key] = (round(index + (b + 1) / (len(layer.biases) + 1), 3), float(rows))
            labels[key], kinds[key], values[key] = bias.symbol, BIAS, _value(bias, numerals)
            edges += [Edge(key, targets[j], bias.symbol, None, None, (key, targets[j]) in lit_edges) for j in bias.neurons]
    nodes = tuple(Node(key, labels[key], kinds[key], *at[key], key in lit, values.get(key)) for key in labels)
    return nodes, tuple(edges)


def place_label(start: tuple[float, float], end: tuple[float, float], preferred: float, width: float,
                boxes: list[tuple[float, float, float, float]], height: float = LINE_HEIGHT) -> tuple[float, float]:
    """Where along the edge a label of `width` (and `height`) goes: as near `preferred` (a share of the
    way from start to end) as it can without covering a label placed before, else where it covers least."""
    def box(share: float) -> tuple[float, float, float, float]:
        x, y = start[0] + share * (end[0] - start[0]), start[1] + share * (end[1] - start[1])
        return x - width / 2, y - height / 2, x + width / 2, y + height / 2

    left, right = min(start[0], end[0]) - width, max(start[0], end[0]) + width
    top, bottom = min(start[1], end[1]) - height, max(start[1], end[1]) + height
    near = [b for b in boxes if b[2] > left and b[0] < right and b[3] > top and b[1] < bottom]
    """The labels a label on this edge could cover: the others are too far away to matter."""

    def covered(share: float) -> float:
        x0, y0, x1, y1 = box(share)
        return sum(max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1])) for b in near)

    shares = sorted((0.3 + 0.05 * step for step in range(9)), key=lambda share: (abs(share - preferred), share))
    best = min(shares, key=covered)
    boxes.append(box(best))
    x0, y0, x1, y1 = box(best)
    return round((x0 + x1) / 2, 3), round((y0 + y1) / 2, 3)


def _value(parameter: Parameter, numerals: Mapping[Symbol, str] | None) -> str | None:
    return None if numerals is None else numerals[parameter.symbol]


def _reached(network: Network, parameter: Parameter) -> frozenset[str]:
    """Every neuron a change of the parameter reaches.

    Its own neurons, the rest of their layer when the activation couples the layer
    (softmax), and every neuron of the layers after it (the layers are fully connected).
    """
    layer = network.layers[parameter.layer]
    return _downstream(network, parameter.layer, {layer.neurons[j].label for j in parameter.neurons})


def _downstream(network: Network, index: int, labels: set[str]) -> frozenset[str]:
    """The neurons `labels` of layer `index`, the rest of their layer when the activation couples it (softmax),
    and every neuron of the layers after it (the layers are fully connected)."""
    layer = network.layers[index]
    reached = {neuron.label for neuron in layer.neurons} if layer.neurons[0].activation.coupled else set(labels)
    reached |= {neuron.label for later in network.layers[index + 1:] for neuron in later.neurons}
    return frozenset(reached)
