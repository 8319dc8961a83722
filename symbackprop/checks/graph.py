"""Every adjoint of a computation graph against a central finite difference in mpmath.

For a leaf v the loss is recomputed with v moved by ±h; for a node v, with v's value moved by ±h
while the names it depends on stay (the adjoint is the derivative through v's uses). Only the nodes
downstream of v that reach the loss are recomputed; a stop-gradient node, detach(u), keeps its value (a
truncated BPTT's gradient is the derivative of the loss with the detached states held fixed). Step and precision are the layered network's:
`FD_DIGITS` digits, h = 10^-`FD_EXPONENT`, and the estimate must agree with the symbolic value to
`REQUIRED_DIGITS` significant digits.

Each check recomputes up to the whole graph, so checking every adjoint costs the square of its size.
A graph of more than `FULL_CHECK_LIMIT` adjoints has its loss, every trainable value and
`SAMPLED_NODES` nodes evenly spaced in the order of evaluation checked (`checked_adjoints`), and the
worked solution says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
from sympy import Symbol

from symbackprop.checks.finite_differences import (FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS, absolute_difference,
                                                   agreeing_digits)
from symbackprop.derivation.graph import Adjoint, GraphDerivation
from symbackprop.errors import CheckFailure
from symbackprop.network.detach import is_detached
from symbackprop.network.graph import Graph, GraphNode
from symbackprop.numbers.graph import graph_forward, graph_point
from symbackprop.numbers.kinks import GraphKink

FULL_CHECK_LIMIT = 1_000
"""Up to this many adjoints, every one is checked."""
SAMPLED_NODES = 10
"""Above `FULL_CHECK_LIMIT`, the nodes checked besides the loss and the trainable values: about one
forward pass each (100,000 nodes: see docs/performance.md)."""


@dataclass(frozen=True)
class AdjointCheck:
    """One name's adjoint: the symbolic value and the high-precision finite-difference estimate."""

    quantity: str
    symbolic: mpmath.mpf
    estimate: mpmath.mpf
    step: mpmath.mpf
    kink: str | None = None
    """Set when the gradient runs through a relu, |u|, max or min at its kink: the derivative there is the
    engine's choice and a central difference cannot confirm it, so the check is reported, not passed or failed."""

    @property
    def agreeing_digits(self) -> float:
        return agreeing_digits(self.estimate, self.symbolic)

    @property
    def absolute_difference(self) -> mpmath.mpf | None:
        return absolute_difference(self.estimate, self.symbolic)

    @property
    def passed(self) -> bool:
        return self.agreeing_digits >= REQUIRED_DIGITS

    @property
    def status(self) -> str:
        return "kink" if self.kink else "pass" if self.passed else "FAIL"

def checked_adjoints(derivation: GraphDerivation) -> list[Adjoint]:
    """The adjoints the check covers, in the derivation's order: all of them up to `FULL_CHECK_LIMIT`;
    above it, the loss's, every trainable value's and `SAMPLED_NODES` others evenly spaced."""
    adjoints = derivation.adjoints
    if len(adjoints) <= FULL_CHECK_LIMIT:
        return list(adjoints)
    graph = derivation.graph
    always = {graph.loss, *graph.spec.trainable}
    others = [index for index, adjoint in enumerate(adjoints) if adjoint.quantity not in always]
    sampled = {others[len(others) * k // SAMPLED_NODES] for k in range(SAMPLED_NODES)}
    return [adjoint for index, adjoint in enumerate(adjoints) if adjoint.quantity in always or index in sampled]


def check_adjoints(derivation: GraphDerivation, symbolic: Mapping[Symbol, mpmath.mpf],
                   at_kink: Sequence[GraphKink] = ()) -> list[AdjointCheck]:
    """The finite-difference check of the `checked_adjoints` (the loss's own, 1, included) against their
    values in `symbolic` (`numbers.graph.graph_values`); a name whose gradient runs through one of `at_kink`
    (`numbers.kinks.graph_kinks`) is marked with that kink's note."""
    graph = derivation.graph
    reaching = {adjoint.quantity for adjoint in derivation.adjoints}
    order = {node.symbol: index for index, node in enumerate(graph.nodes)}
    checks = []
    with mpmath.workdps(FD_DIGITS):
        h = mpmath.mpf(10) ** -FD_EXPONENT
        at_point = graph_forward(graph, graph_point(graph))
        for adjoint in checked_adjoints(derivation):
            quantity = adjoint.quantity
            cone = _downstream(graph, quantity, reaching, order)
            sides = [graph_forward(graph, {**at_point, quantity: at_point[quantity] + sign * h}, cone)[graph.loss]
                     for sign in (1, -1)]
            kink = next((k.note for k in at_kink if quantity in k.depends), None)
            checks.append(AdjointCheck(quantity.name, symbolic[adjoint.symbol], (sides[0] - sides[1]) / (2 * h), h,
                                       kink))
    return checks


def _downstream(graph: Graph, name: Symbol, reaching: set[Symbol], order: Mapping[Symbol, int]) -> list[GraphNode]:
    """The nodes that use `name`, directly or not, and reach the loss, in topological order; not through a
    stop-gradient, which is held at its value."""
    found: dict[Symbol, GraphNode] = {}
    pending = [name]
    while pending:
        for user in graph.consumers[pending.pop()]:
            if user.symbol not in found and user.symbol in reaching and not is_detached(user.expression):
                found[user.symbol] = user
                pending.append(user.symbol)
    return sorted(found.values(), key=lambda node: order[node.symbol])


def require_adjoints(checks: list[AdjointCheck]) -> None:
    """Raise `CheckFailure` naming every adjoint that disagrees, with both numbers."""
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        lines = [f"dE/d{c.quantity}: symbolic {mpmath.nstr(c.symbolic, 25)} vs mpmath finite difference "
                 f"{mpmath.nstr(c.estimate, 25)} ({c.agreeing_digits:.1f} digits agree, {REQUIRED_DIGITS} required)"
                 for c in failed]
        raise CheckFailure("adjoint check failed:\n" + "\n".join(lines))
