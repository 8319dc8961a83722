"""A computation graph's worked solution: the values, the forward pass, then every gradient backwards.

In the staged style of course notes: each name's gradient is the sum, over the nodes that use it,
of the upstream gradient times the local one; each local derivative is worked out from its node's
expression (every rule with `detail="full"`), then the numbers, then the result. The graph is drawn
after the title (each edge's value above it, its gradient below), and each gradient's section opens
with the figure of its paths to the loss. With a learning rate, the updates v+ = v - eta dE/dv close it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath

from sympy import Symbol

from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS
from symbackprop.checks.graph import FULL_CHECK_LIMIT, SAMPLED_NODES, AdjointCheck
from symbackprop.derivation.graph import Adjoint, GraphDerivation
from symbackprop.numbers.evaluate import PRECISION, evaluate
from symbackprop.numbers.graph import graph_point, use_gradients
from symbackprop.numbers.graph_training import update_definitions
from symbackprop.numbers.kinks import GraphKink
from symbackprop.numbers.rounding import display_numerals, fixed, significant, tabulated
from symbackprop.solution.build import DETAILS, absolute_note, agreement, local_derivative_steps
from symbackprop.solution.figure import Figure
from symbackprop.solution.graph_figure import FIGURE_LIMIT, graph_figure, graph_layout, paths_to_loss
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
    updates = update_definitions(derivation) if graph.spec.learning_rate is not None else []
    with mpmath.workdps(PRECISION):
        values = {**values, **{target: evaluate(expression, values) for target, expression in updates}}
    numerals = display_numerals(values, places)
    given = Section("Values", (Table(("name", "value"), tuple((leaf, numerals[leaf]) for leaf in graph.point())),))
    forward = Section("Forward pass", tuple(Step(node.symbol, (node.expression,), node.expression, numerals[node.symbol])
                                            for node in graph.nodes))
    drawing = _Drawing(derivation, values, numerals, places) if drawn(derivation) else None
    stated: set[Symbol] = set()
    backward = [_gradient(adjoint, derivation, numerals, detail, stated, drawing) for adjoint in derivation.adjoints]
    unreached = [node.symbol.name for node in graph.nodes
                 if node.symbol not in {adjoint.quantity for adjoint in derivation.adjoints}]
    if unreached:
        backward.insert(0, Note(f"{', '.join(unreached)} {'does' if len(unreached) == 1 else 'do'} not reach the "
                                f"loss {graph.loss.name}: no gradient flows back through "
                                f"{'it' if len(unreached) == 1 else 'them'}."))
    if drawing is None:
        given = Section("Values", (Note(TOO_LARGE.format(names=len(graph.leaves) + len(graph.nodes))), *given.items))
    sections = [given, forward, graph_kink_section(at_kink), Section("Backward pass", tuple(backward)),
                Section("Updates", tuple(Step(target, (expression,), expression, numerals[target])
                                         for target, expression in updates)) if updates else None]
    sections = [section for section in sections if section is not None]
    if checks is not None:
        sections.append(adjoint_check_section(derivation, checks))
    figure = None if drawing is None else drawing.full()
    return WorkedSolution(f"Worked solution: {graph.spec.name}", tuple(sections), numerals, places, figure)


TOO_LARGE = f"The graph has {{names}} names: too many to draw (figures are drawn up to {FIGURE_LIMIT})."


def drawn(derivation: GraphDerivation) -> bool:
    """Whether the graph is small enough to draw."""
    return len(derivation.graph.leaves) + len(derivation.graph.nodes) <= FIGURE_LIMIT


class _Drawing:
    """The figures of one worked solution: one layout, each use's gradient rounded once."""

    def __init__(self, derivation: GraphDerivation, values: Mapping[Symbol, mpmath.mpf],
                 numerals: Mapping[Symbol, str], places: int):
        self.graph = derivation.graph
        self.layout = graph_layout(self.graph)
        self.numerals = numerals
        self.shares = {use: fixed(value, places) for use, value in use_gradients(derivation, values).items()}

    def full(self) -> Figure:
        """The graph with each edge's value above it and its gradient below, the loss's value under it."""
        return graph_figure(self.graph, self.layout, "The graph: each edge's value above it, its gradient below",
                            self.numerals, self.shares, self.numerals[self.graph.loss])

    def paths(self, adjoint: Adjoint) -> Figure:
        """Every edge from the name to the loss highlighted (every use of a shared name), with its numbers."""
        return graph_figure(self.graph, self.layout, "Paths of", self.numerals, self.shares,
                            highlighted=paths_to_loss(self.graph, adjoint.quantity), symbol=adjoint.symbol)


def _gradient(adjoint: Adjoint, derivation: GraphDerivation, numerals: Mapping[Symbol, str], detail: str,
              stated: set[Symbol], drawing: _Drawing | None) -> Section:
    """One name's gradient: the figure of its paths to the loss (when the graph is drawn), the chain rule
    over its uses, each local derivative, the numbers, the result."""
    result = numerals[adjoint.symbol]
    name = adjoint.quantity.name
    if adjoint.quantity == derivation.graph.loss:
        return Section("Gradient for", (Note("The loss by itself: its gradient is 1."),
                                        Step(adjoint.symbol, (), None, result)), adjoint.quantity)
    if not adjoint.terms:
        return Section("Gradient for", (Note(f"No node that reaches the loss uses {name}: its gradient is 0."),
                                        Step(adjoint.symbol, (), None, result)), adjoint.quantity)
    items: list[Step | Note | Figure] = []
    if drawing is not None:
        items.append(drawing.paths(adjoint))
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
    rows = tuple((symbols[c.quantity], tabulated(c.symbolic, 15), tabulated(c.estimate, 15),
                  agreement(c.agreeing_digits, c.absolute_difference), c.status) for c in checks)
    note = Note(f"Central differences in mpmath at {FD_DIGITS} digits with h = 1e-{FD_EXPONENT}, required to agree "
                f"to {REQUIRED_DIGITS} significant digits; a node is moved with everything it depends on held."
                + _sample_note(len(checks), len(derivation.adjoints)))
    kinks = [Note(f"kink: {text}.") for text in dict.fromkeys(c.kink for c in checks if c.kink)]
    table = Table(("gradient", "symbolic", "mpmath FD", "digits agreeing", "status"), rows)
    return Section("Gradient checks", (note, *kinks, *absolute_note(checks), table))


def _sample_note(checked: int, adjoints: int) -> str:
    if checked == adjoints:
        return ""
    return (f" {checked:,} of the {adjoints:,} gradients are checked (a graph of more than {FULL_CHECK_LIMIT:,}): "
            f"the loss's, every trainable value's and {SAMPLED_NODES} others evenly spaced in the order of evaluation.")


def graph_gradient_report(derivation: GraphDerivation, values: Mapping[Symbol, mpmath.mpf],
                          checks: list[AdjointCheck], at_kink: Sequence[GraphKink] = ()) -> WorkedSolution:
    """The loss, any function at its kink, and every gradient, beside its finite-difference check where it has
    one (`checked_adjoints`), as the `gradients` command prints a layered network's (the double-precision
    columns are a layered network's only: null here)."""
    graph = derivation.graph
    value = significant(values[graph.loss])
    sections = tuple(s for s in (Section("Loss", (Step(graph.loss, (), None, value),)), graph_kink_section(at_kink),
                                 adjoint_check_section(derivation, checks)) if s is not None)
    return WorkedSolution(f"Gradients: {graph.spec.name}", sections, places=None, kind="gradients", data={
        "loss": value,
        "gradients": {a.quantity.name: significant(values[a.symbol])
                      for a in derivation.adjoints if a.quantity != graph.loss},
        "checks": [{"parameter": c.quantity, "symbolic": significant(c.symbolic), "double_fd": None,
                    "double_step": None, "double_error": None, "double_tolerance": None,
                    "mpmath_fd": significant(c.estimate), "agreeing_digits": round(c.agreeing_digits, 1),
                    "status": c.status, "kink": c.kink} for c in checks],
        "kinks": [{"neuron": k.node.name, "note": k.note} for k in at_kink],
    })


def graph_question_sheet(derivation: GraphDerivation, title: str) -> WorkedSolution:
    """A graph exercise: the graph drawn with each given value on its edges, the values, each node's
    formula, then every quantity to find (each node's value, then every gradient)."""
    graph = derivation.graph
    given = display_numerals({leaf: value for leaf, value in graph_point(graph).items() if leaf in graph.leaves}, 12)
    figure = [graph_figure(graph, graph_layout(graph), "The graph, each given value on its edges", given)] \
        if drawn(derivation) else []
    questions = [Step(node.symbol, (), None, "?") for node in graph.nodes]
    questions += [Step(adjoint.symbol, (), None, "?") for adjoint in derivation.adjoints if adjoint.quantity != graph.loss]
    return WorkedSolution(title, (
        Section("The graph", (
            Note(f"Each node is worked out from the names it uses; the loss is {graph.loss.name}."),
            *figure,
            Table(("name", "value"), tuple(given.items())),
            *(Step(node.symbol, (node.expression,)) for node in graph.nodes),
        )),
        Section("Find", tuple(questions)),
    ), {}, 12, kind="exercise")
