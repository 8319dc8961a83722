"""A computation graph's tutor page records: its worked solution's steps as questions, each lighting up its
part of the graph figure.

The questions are `solution.tutor`'s (forward values, then each gradient's local derivatives and adjoint in
reverse order, then the updates when the spec has a learning rate; exact values, values by hand and the
`GraphChecker`'s mistakes); only what a step is about in the figure is particular to a graph: a node's value
lights the node and the edges of the names it uses, a local derivative dq/dx its edge x -> q, a gradient
dE/dv (and an update of v) every path from v to the loss. Every name of the figure opens on a click
(`graph_opened`): its paths to the loss, as the worked solution's figure of its gradient lights them, and the
first question of the section that derives its gradient; an edge, which carries its source's value and
gradient, opens what its source does.

A page asks at most `MAX_TUTOR_STEPS` steps: past that (a layer spec's scalar graph grows with every entry)
the page is refused in one line rather than written at many megabytes; a graph with more nodes and gradients
than that is refused before it is solved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from sympy import Symbol

from symbackprop.checks.graph_check import GraphChecker
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import InputError
from symbackprop.names import name_of, symbol
from symbackprop.network import Partial
from symbackprop.network.graph import Graph
from symbackprop.solution.figure import Paths
from symbackprop.solution.graph_figure import paths_to_loss
from symbackprop.solution.model import WorkedSolution
from symbackprop.solution.tutor import (
    TutorPage, derivation_starts, in_figure_order, numbered_steps, opening, tutor_page,
)

MAX_TUTOR_STEPS = 400
"""The most steps with a number a graph's tutor page asks (the 2-2-2 network's page asks 84)."""


def graph_tutor_page(name: str, derivation: GraphDerivation, solve: Callable[[], WorkedSolution],
                     checker: Callable[[], GraphChecker]) -> TutorPage:
    """The graph's worked solution (`solve()`) as a tutor page, judged by `checker()`; `InputError` past
    `MAX_TUTOR_STEPS` steps, before solving when the nodes and gradients alone are more."""
    _require_steps(len(derivation.graph.nodes) + len(derivation.adjoints), "at least ")
    solution = solve()
    _require_steps(numbered_steps(solution))
    page = tutor_page(name, solution, checker(), lambda step: _drawn(derivation, solution, step.symbol))
    return graph_opened(page, derivation)


def _require_steps(steps: int, bound: str = "") -> None:
    if steps > MAX_TUTOR_STEPS:
        raise InputError(f"spec: the tutor page asks at most {MAX_TUTOR_STEPS} steps; this graph's worked solution "
                         f"has {bound}{steps:,} (its scalar nodes, local derivatives and gradients): solve shows it whole")


def _drawn(derivation: GraphDerivation, solution: WorkedSolution,
           quantity: Symbol) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The figure's nodes and edges (by name) that `quantity`'s step is about; none when the graph is not drawn."""
    if solution.figure is None:
        return (), ()
    graph = derivation.graph
    adjoints = {adjoint.symbol: adjoint.quantity for adjoint in derivation.adjoints}
    nodes = {node.symbol: node for node in graph.nodes}
    if quantity in adjoints:
        paths = _to_loss(graph, adjoints[quantity])
    elif isinstance(quantity, Partial):  # a local derivative d(user)/d(input): the one use
        paths = _keys({(quantity.wrt, quantity.of)})
    elif quantity in nodes:
        paths = _keys((used, quantity) for used in nodes[quantity].inputs)
    else:  # v+: the value and every path its gradient comes along
        paths = _to_loss(graph, symbol(replace(name_of(quantity), updated=False)))
    return in_figure_order(solution.figure, paths)


def graph_opened(page: TutorPage, derivation: GraphDerivation) -> TutorPage:
    """`page` with an opening for every name of its graph figure, then for every edge (a use: the edge's labels
    are its source's value and gradient, so it opens what its source does); none when the graph is not drawn."""
    figure = page.solution.figure
    if figure is None:
        return page
    graph = derivation.graph
    gradients = {adjoint.quantity: adjoint.symbol for adjoint in derivation.adjoints}
    derived = derivation_starts(page)
    names = {node.key: opening(figure, "node", node.key, node.label, _to_loss(graph, node.label),
                               derived.get(gradients.get(node.label))) for node in figure.nodes}
    edges = [replace(names[edge.source], part="edge", key=f"{edge.source} {edge.target}") for edge in figure.edges]
    return replace(page, openings=(*names.values(), *edges))


def _to_loss(graph: Graph, name: Symbol) -> Paths:
    """What the worked solution's figure of dE/d`name` lights: every path from `name` to the loss (every use
    of a shared name), the names at their ends; `name` alone when no path leads from it (the loss itself)."""
    return _keys(paths_to_loss(graph, name) or {(name, name)})


def _keys(edges: Iterable[tuple[Symbol, Symbol]]) -> Paths:
    """The figure's keys of `edges` and of the names at their ends."""
    keys = frozenset((source.name, target.name) for source, target in edges)
    return frozenset(name for edge in keys for name in edge), keys
