"""A computation graph's worked solution: the values, the forward pass, then every gradient backwards.

In the staged style of course notes: each name's gradient is the sum, over the nodes that use it,
of the upstream gradient times the local one; each local derivative is worked out from its node's
expression (every rule with `detail="full"`), then the numbers, then the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath

from sympy import Symbol

from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS
from symbackprop.checks.graph import AdjointCheck
from symbackprop.derivation.graph import Adjoint, GraphDerivation
from symbackprop.numbers.kinks import GraphKink
from symbackprop.numbers.rounding import display_numerals, significant
from symbackprop.solution.build import DETAILS, local_derivative_steps
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution


def graph_solution(derivation: GraphDerivation, values: Mapping[Symbol, mpmath.mpf], places: int = 9,
                   checks: list[AdjointCheck] | None = None, detail: str = "brief",
                   at_kink: Sequence[GraphKink] = ()) -> WorkedSolution:
    """The whole worked solution of a graph from its `values` (`numbers.graph.graph_values`), every number
    shown to `places` decimals; `checks`, when given, are shown at the end; `at_kink`
    (`numbers.kinks.graph_kinks`) after the forward pass."""
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r}")
    graph = derivation.graph
    numerals = display_numerals(values, places)
    given = Section("Values", (Table(("name", "value"), tuple((leaf, numerals[leaf]) for leaf in graph.point())),))
    forward = Section("Forward pass", tuple(Step(node.symbol, (node.expression,), node.expression, numerals[node.symbol])
                                            for node in graph.nodes))
    stated: set[Symbol] = set()
    backward = [_gradient(adjoint, derivation, numerals, detail, stated) for adjoint in derivation.adjoints]
    unreached = [node.symbol.name for node in graph.nodes
                 if node.symbol not in {adjoint.quantity for adjoint in derivation.adjoints}]
    if unreached:
        backward.insert(0, Note(f"{', '.join(unreached)} {'does' if len(unreached) == 1 else 'do'} not reach the "
                                f"loss {graph.loss.name}: no gradient flows back through "
                                f"{'it' if len(unreached) == 1 else 'them'}."))
    sections = [given, forward, graph_kink_section(at_kink), Section("Backward pass", tuple(backward))]
    sections = [section for section in sections if section is not None]
    if checks is not None:
        sections.append(adjoint_check_section(derivation, checks))
    return WorkedSolution(f"Worked solution: {graph.spec.name}", tuple(sections), numerals, places)


def _gradient(adjoint: Adjoint, derivation: GraphDerivation, numerals: Mapping[Symbol, str], detail: str,
              stated: set[Symbol]) -> Section:
    """One name's gradient: the chain rule over its uses, each local derivative, the numbers, the result."""
    result = numerals[adjoint.symbol]
    name = adjoint.quantity.name
    if adjoint.quantity == derivation.graph.loss:
        return Section("Gradient for", (Note("The loss by itself: its gradient is 1."),
                                        Step(adjoint.symbol, (), None, result)), adjoint.quantity)
    if not adjoint.terms:
        return Section("Gradient for", (Note(f"No node that reaches the loss uses {name}: its gradient is 0."),
                                        Step(adjoint.symbol, (), None, result)), adjoint.quantity)
    items: list[Step | Note] = []
    users = [local.symbol.of.name for _, local in adjoint.terms]
    if len(users) > 1:
        items.append(Note(f"{name} is used by {', '.join(users)}: one term per use, each the upstream "
                          f"gradient times the local one."))
    single = adjoint.expression == adjoint.symbol  # used by the loss alone: the local derivative is the gradient
    if not single:
        items.append(Step(adjoint.symbol, (adjoint.expression,)))
    nodes = {node.symbol: node for node in derivation.graph.nodes}
    for _, local in adjoint.terms:
        user = local.symbol.of
        if user not in stated:
            stated.add(user)
            items.append(Step(user, (nodes[user].expression,)))
        items += local_derivative_steps(local, numerals, detail)
    if not single:
        items.append(Step(adjoint.symbol, (adjoint.expression,), adjoint.expression, result))
    return Section("Gradient for", tuple(items), adjoint.quantity)


def graph_kink_section(at_kink: Sequence[GraphKink]) -> Section | None:
    """Each relu, |u|, max or min at its kink, in its node, and the derivative the engine uses there."""
    if not at_kink:
        return None
    return Section("At a kink", tuple(Note((kink.function, f" in {kink.node.name}: {kink.note}.")) for kink in at_kink))


def adjoint_check_section(derivation: GraphDerivation, checks: list[AdjointCheck]) -> Section:
    """Every gradient against its mpmath finite difference, as a table."""
    symbols = {adjoint.quantity.name: adjoint.symbol for adjoint in derivation.adjoints}
    rows = tuple((symbols[c.quantity], significant(c.symbolic, 15), significant(c.estimate, 15),
                  f"{min(c.agreeing_digits, FD_DIGITS):.0f}", c.status) for c in checks)
    note = Note(f"Central differences in mpmath at {FD_DIGITS} digits with h = 1e-{FD_EXPONENT}, required to agree "
                f"to {REQUIRED_DIGITS} significant digits; a node is moved with everything it depends on held.")
    return Section("Gradient checks", (note, Table(("gradient", "symbolic", "mpmath FD", "digits agreeing", "status"),
                                                   rows)))


def graph_gradient_report(derivation: GraphDerivation, loss: mpmath.mpf, checks: list[AdjointCheck],
                          at_kink: Sequence[GraphKink] = ()) -> WorkedSolution:
    """The loss, any function at its kink, and every gradient beside its finite-difference check, as the
    `gradients` command prints a layered network's (the double-precision columns are a layered network's
    only: null here)."""
    graph = derivation.graph
    value = significant(loss)
    sections = tuple(s for s in (Section("Loss", (Step(graph.loss, (), None, value),)), graph_kink_section(at_kink),
                                 adjoint_check_section(derivation, checks)) if s is not None)
    return WorkedSolution(f"Gradients: {graph.spec.name}", sections, places=None, kind="gradients", data={
        "loss": value,
        "gradients": {c.quantity: significant(c.symbolic) for c in checks if c.quantity != graph.loss.name},
        "checks": [{"parameter": c.quantity, "symbolic": significant(c.symbolic), "double_fd": None,
                    "double_step": None, "double_error": None, "double_tolerance": None,
                    "mpmath_fd": significant(c.estimate), "agreeing_digits": round(c.agreeing_digits, 1),
                    "status": c.status, "kink": c.kink} for c in checks],
        "kinks": [{"neuron": k.node.name, "note": k.note} for k in at_kink],
    })
