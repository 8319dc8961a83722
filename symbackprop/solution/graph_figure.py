"""A computation graph as a figure, as course notes draw one: names in columns left to right, one edge
per use, the value that flows along an edge above it and its gradient below.

The layout is computed once per graph (Sugiyama's method) and serves every figure of it:

- columns: each intermediate one column right of the furthest name it uses (the longest path from
  the leaves); each leaf one column left of its first user, so that its edges are short;
- an edge that spans several columns bends once in each column it passes, and the bend keeps a row
  of its own there, so that no edge runs through a node;
- rows: a depth-first walk back from the loss gives the first order in each column; sweeps of
  barycentre ordering (each name to the mean row of its neighbours in the column before, then in the
  column after) and swaps of neighbours then remove crossings, keeping the order with fewest.

Coordinates are in column and row units, y downwards, as in `solution.figure`.
"""

from __future__ import annotations

import random
from bisect import bisect_right, insort
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sympy import Expr, Symbol

from symbackprop.network.graph import Graph
from symbackprop.solution.figure import CHARACTER, LEAF, LINE_HEIGHT, NODE, Edge, Figure, Node, place_label

FIGURE_LIMIT = 80
"""The most names (leaves and intermediates) a graph may have to be drawn: beyond, a figure is unreadable."""
_SWEEPS, _SWAPS = 8, 20
"""Rounds of barycentre sweeps (down and up), and of neighbour swaps, from each order started from."""
_STARTS, _WORK = (4, 64), 1500
"""The fewest and most orders started from: as many as `_WORK` segments between columns allow."""

Vertex = Symbol | tuple[int, int]
"""A name, or the bend of edge i in column c: (i, c)."""


@dataclass(frozen=True)
class GraphLayout:
    """Where each name sits and how each edge runs: the part of the figure that does not depend on numbers."""

    edges: tuple[tuple[Symbol, Symbol], ...]
    """Every use as (name, the node that uses it), the nodes in topological order."""
    at: dict[Symbol, tuple[float, float]]
    bends: tuple[tuple[tuple[float, float], ...], ...]
    """For each edge, its bends from source to target (none between neighbouring columns)."""


def graph_layout(graph: Graph) -> GraphLayout:
    """Columns by longest path, a bend per column passed, rows ordered to cross as little as they can."""
    inputs = {node.symbol: node.inputs for node in graph.nodes}
    column: dict[Symbol, int] = {}
    for node in graph.nodes:
        column[node.symbol] = 1 + max((column.get(name, 0) for name in node.inputs), default=-1)
    for leaf in graph.leaves:
        column[leaf] = min((column[user.symbol] for user in graph.consumers[leaf]), default=1) - 1
    edges = tuple((name, node.symbol) for node in graph.nodes for name in node.inputs)
    columns: list[list[Vertex]] = [[] for _ in range(max(column.values()) + 1)]
    below: dict[Vertex, list[Vertex]] = {}
    above: dict[Vertex, list[Vertex]] = {}
    rank = _first_order(graph, inputs)
    order: dict[Vertex, float] = {}
    for name in rank:
        columns[column[name]].append(name)
        order[name] = rank[name]
    for index, (source, target) in enumerate(edges):
        chain: list[Vertex] = [source, *((index, c) for c in range(column[source] + 1, column[target])), target]
        for c in range(column[source] + 1, column[target]):
            columns[c].append((index, c))
            order[(index, c)] = rank[target] - 0.5 + index / (len(edges) + 1)
        for upper, lower in zip(chain, chain[1:]):
            below.setdefault(upper, []).append(lower)
            above.setdefault(lower, []).append(upper)
    columns = [sorted(vertices, key=order.__getitem__) for vertices in columns]
    columns = _fewest_crossings(columns, above, below)
    rows = max(len(vertices) for vertices in columns)
    place = {vertex: (float(c), (rows - len(vertices)) / 2 + row)
             for c, vertices in enumerate(columns) for row, vertex in enumerate(vertices)}
    bends = tuple(tuple(place[(index, c)] for c in range(column[source] + 1, column[target]))
                  for index, (source, target) in enumerate(edges))
    return GraphLayout(edges, {name: place[name] for name in rank}, bends)


def graph_figure(graph: Graph, layout: GraphLayout, title: str, numerals: Mapping[Symbol, str] | None = None,
                 gradients: Mapping[tuple[Symbol, Symbol], str] | None = None, loss_value: str | None = None,
                 highlighted: frozenset[tuple[Symbol, Symbol]] = frozenset(), symbol: Expr | None = None) -> Figure:
    """The graph laid out by `layout`: each edge from v labelled with v's numeral (when `numerals` has
    it) above and its use's gradient (when `gradients` has it) below; `loss_value` under the loss.

    With `highlighted` edges, only those are labelled, and the nodes at their ends are highlighted.
    """
    numerals, gradients = numerals or {}, gradients or {}
    lit = {name for edge in highlighted for name in edge}
    leaves = set(graph.leaves)
    nodes = tuple(Node(name.name, name, LEAF if name in leaves else NODE, *layout.at[name], name in lit,
                       loss_value if name == graph.loss else None) for name in layout.at)
    boxes = [(x - 0.1, y - 0.1, x + 0.1, y + 0.1) for x, y in layout.at.values()]
    fan_out = Counter(source for source, _ in layout.edges)
    fan_in = Counter(target for _, target in layout.edges)
    edges = []
    for (source, target), bends in zip(layout.edges, layout.bends):
        on = (source, target) in highlighted
        shown = on or not highlighted
        value = numerals.get(source) if shown else None
        gradient = gradients.get((source, target)) if shown else None
        at = None
        if value is not None or gradient is not None:
            route = (layout.at[source], *bends, layout.at[target])
            middle = (len(route) - 2) // 2
            width = CHARACTER * max(len(value or ""), len(gradient or ""))
            spread = fan_in[target] - fan_out[source]  # edges that meet at one end are further apart at the other
            preferred = 0.5 if spread == 0 or len(route) > 2 else 0.35 if spread > 0 else 0.65
            at = place_label(route[middle], route[middle + 1], preferred, width, boxes, 2 * LINE_HEIGHT)
        edges.append(Edge(source.name, target.name, None, value, at, on, gradient, bends))
    return Figure(title, nodes, tuple(edges), symbol)


def paths_to_loss(graph: Graph, name: Symbol) -> frozenset[tuple[Symbol, Symbol]]:
    """Every edge on a path from `name` to the loss: each use of `name` whose node reaches the loss (for
    a shared name, every such use), and the same for every node reached."""
    reaching = {graph.loss}
    for node in reversed(graph.nodes):
        if any(user.symbol in reaching for user in graph.consumers[node.symbol]):
            reaching.add(node.symbol)
    found: set[tuple[Symbol, Symbol]] = set()
    pending = [name]
    while pending:
        source = pending.pop()
        for user in graph.consumers[source]:
            if user.symbol in reaching and (source, user.symbol) not in found:
                found.add((source, user.symbol))
                pending.append(user.symbol)
    return frozenset(found)


def _first_order(graph: Graph, inputs: Mapping[Symbol, tuple[Symbol, ...]]) -> dict[Symbol, int]:
    """Every name numbered in a depth-first walk back from the loss (then from the other nodes no one
    uses, then the rest), inputs in the order they are written: the order rows start from."""
    rank: dict[Symbol, int] = {}
    unused = [node.symbol for node in reversed(graph.nodes) if not graph.consumers[node.symbol]]
    for root in [graph.loss, *unused, *(node.symbol for node in graph.nodes), *graph.leaves]:
        pending = [root]
        while pending:
            name = pending.pop()
            if name not in rank:
                rank[name] = len(rank)
                pending.extend(reversed(inputs.get(name, ())))
    return rank


def _fewest_crossings(columns: list[list[Vertex]], above: Mapping[Vertex, list[Vertex]],
                      below: Mapping[Vertex, list[Vertex]]) -> list[list[Vertex]]:
    """Sweeps and swaps from the walk's order, from it with every column reversed, then from shuffled
    orders (drawn from a fixed seed: the same layout every time); the order with the fewest crossings.
    One start can stop where no single sweep or swap helps while another reaches no crossing at all."""
    draw = random.Random(0)
    best, fewest = columns, _total(columns, below)
    segments = sum(len(links) for links in below.values())
    for start in range(max(_STARTS[0], min(_STARTS[1], _WORK // (segments + 1)))):
        if fewest == 0:
            break
        trial = [list(reversed(c)) if start == 1 else draw.sample(c, len(c)) if start > 1 else list(c)
                 for c in columns]
        trial = _improved(trial, above, below)
        count = _total(trial, below)
        if count < fewest:
            best, fewest = trial, count
    return best


def _improved(columns: list[list[Vertex]], above: Mapping[Vertex, list[Vertex]],
              below: Mapping[Vertex, list[Vertex]]) -> list[list[Vertex]]:
    """Barycentre sweeps down and up, then swaps of neighbours while one helps."""
    best, fewest = [list(c) for c in columns], _total(columns, below)
    for sweep in range(_SWEEPS):
        if fewest == 0:
            return best
        flip = sweep % 2 == 1
        for c in range(1, len(columns)):
            after = columns[c + 1] if c + 1 < len(columns) else []
            columns[c] = _by_barycentre(columns[c], (columns[c - 1], above), (after, below), flip)
        for c in reversed(range(len(columns) - 1)):
            before = columns[c - 1] if c > 0 else []
            columns[c] = _by_barycentre(columns[c], (columns[c + 1], below), (before, above), flip)
        count = _total(columns, below)
        if count < fewest:
            best, fewest = [list(c) for c in columns], count
    return _swapped(best, above, below)


def _swapped(columns: list[list[Vertex]], above: Mapping[Vertex, list[Vertex]],
             below: Mapping[Vertex, list[Vertex]]) -> list[list[Vertex]]:
    """Neighbours in a column swapped wherever that removes crossings, until no swap does; then once
    wherever a swap changes nothing (two crossings may need two swaps, the first of which alone does
    not help), and again; the order with the fewest crossings met on the way."""
    rows = [{vertex: k for k, vertex in enumerate(column)} for column in columns]
    best, fewest = [list(c) for c in columns], _total(columns, below)
    level = False
    for _ in range(_SWAPS):
        if fewest == 0:
            break
        swapped = False
        for c, vertices in enumerate(columns):
            sides = [(rows[k], links) for k, links in ((c - 1, above), (c + 1, below)) if 0 <= k < len(columns)]
            for k in range(len(vertices) - 1):
                first, second = vertices[k], vertices[k + 1]
                change = sum(_crossed(second, first, *side) - _crossed(first, second, *side) for side in sides)
                if change < 0 or (level and change == 0):
                    vertices[k], vertices[k + 1] = second, first
                    rows[c][first], rows[c][second] = k + 1, k
                    swapped = True
        count = _total(columns, below)
        if count < fewest:
            best, fewest = [list(c) for c in columns], count
        if level and not swapped:
            break
        level = not swapped
    return best


def _crossed(first: Vertex, second: Vertex, row: Mapping[Vertex, int], links: Mapping[Vertex, list[Vertex]]) -> int:
    """The crossings between the edges of `first` and of `second` to one neighbouring column, `first` above."""
    return sum(row[a] > row[b] for a in links.get(first, ()) for b in links.get(second, ()))


def _by_barycentre(vertices: list[Vertex], side: tuple[list[Vertex], Mapping[Vertex, list[Vertex]]],
                   other: tuple[list[Vertex], Mapping[Vertex, list[Vertex]]], flip: bool) -> list[Vertex]:
    """`vertices` sorted by the mean row of their neighbours in the column on one `side`; ties by the mean
    row of those on the `other` side, then by their order, or with `flip` its reverse (alternating lets a
    sweep leave an order that ties would hold). One without neighbours keeps its row."""
    def means(column: list[Vertex], links: Mapping[Vertex, list[Vertex]]) -> list[float]:
        row = {vertex: j for j, vertex in enumerate(column)}
        linked = [[row[v] for v in links.get(vertex, ()) if v in row] for vertex in vertices]
        return [sum(rows) / len(rows) if rows else k for k, rows in enumerate(linked)]

    keys = list(zip(means(*side), means(*other), [-k if flip else k for k in range(len(vertices))]))
    return [vertices[k] for k in sorted(range(len(vertices)), key=keys.__getitem__)]


def _total(columns: list[list[Vertex]], below: Mapping[Vertex, list[Vertex]]) -> int:
    return sum(_between(columns, c, below) for c in range(len(columns) - 1))


def _between(columns: list[list[Vertex]], c: int, below: Mapping[Vertex, list[Vertex]]) -> int:
    """The crossings between column c and the next."""
    row = {vertex: k for k, vertex in enumerate(columns[c + 1])}
    return _inversions([(k, row[lower]) for k, upper in enumerate(columns[c]) for lower in below.get(upper, ())])


def _inversions(segments: list[tuple[int, int]]) -> int:
    """Pairs of segments (start row, end row) between two columns whose order changes: the ones that cross."""
    seen: list[int] = []
    count = 0
    for _, end in sorted(segments):
        count += len(seen) - bisect_right(seen, end)
        insort(seen, end)
    return count
