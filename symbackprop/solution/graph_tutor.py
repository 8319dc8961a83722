"""A computation graph's tutor page records: its worked solution's steps as questions, each lighting up its
part of the graph figure.

The questions are `solution.tutor`'s (forward values, then each gradient's local derivatives and adjoint in
reverse order, then the updates when the spec has a learning rate; exact values, values by hand and the
`GraphChecker`'s mistakes); only what a step is about in the figure is particular to a graph: a node's value
lights the node and the edges of the names it uses, a local derivative dq/dx its edge x -> q, a gradient
dE/dv (and an update of v) every path from v to the loss.

A page asks at most `MAX_TUTOR_STEPS` steps: past that (a layer spec's scalar graph grows with every entry)
the page is refused in one line rather than written at many megabytes; a graph with more nodes and gradients
than that is refused before it is solved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sympy import Symbol

from symbackprop.checks.graph_check import GraphChecker
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import InputError
from symbackprop.names import name_of, symbol
from symbackprop.network import Partial
from symbackprop.solution.graph_figure import paths_to_loss
from symbackprop.solution.model import WorkedSolution
from symbackprop.solution.tutor import TutorPage, numbered_steps, tutor_page

MAX_TUTOR_STEPS = 400
"""The most steps with a number a graph's tutor page asks (the 2-2-2 network's page asks 84)."""


def graph_tutor_page(name: str, derivation: GraphDerivation, solve: Callable[[], WorkedSolution],
                     checker: Callable[[], GraphChecker]) -> TutorPage:
    """The graph's worked solution (`solve()`) as a tutor page, judged by `checker()`; `InputError` past
    `MAX_TUTOR_STEPS` steps, before solving when the nodes and gradients alone are more."""
    _require_steps(len(derivation.graph.nodes) + len(derivation.adjoints), "at least ")
    solution = solve()
    _require_steps(numbered_steps(solution))
    return tutor_page(name, solution, checker(), lambda step: _drawn(derivation, solution, step.symbol))


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
        edges = paths_to_loss(graph, adjoints[quantity]) or {(adjoints[quantity], adjoints[quantity])}
    elif isinstance(quantity, Partial):  # a local derivative d(user)/d(input): the one use
        edges = {(quantity.wrt, quantity.of)}
    elif quantity in nodes:
        edges = {(used, quantity) for used in nodes[quantity].inputs}
    else:  # v+: the value and every path its gradient comes along
        value = symbol(replace(name_of(quantity), updated=False))
        edges = paths_to_loss(graph, value) or {(value, value)}
    keys = {(source.name, target.name) for source, target in edges}
    named = {name for edge in keys for name in edge}
    return (tuple(node.key for node in solution.figure.nodes if node.key in named),
            tuple((e.source, e.target) for e in solution.figure.edges if (e.source, e.target) in keys))
