"""A tutor page's records: the worked solution's steps, each with its exact value and its wrong answers.

Every step of the worked solution that has a number the checker knows becomes a question, in the
document's order. Beside the step go what judging a typed number needs, worked out here once so the
page only compares: the exact value (to `DIGITS` significant digits), the value rounded as by hand at
each number of decimals where it differs, the likeliest mistakes in the step's own definition with the
values they give (`likeliest`: a few per step), and the nodes and edges of the figure the step is about.
Beside the questions (`opened`), what clicking each weight, bias, input or neuron of the figure shows: its
paths to the loss, as the engine lights its gradient's figure, and where its gradient's derivation starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

import mpmath
from sympy import Expr, Symbol

from symbackprop.checks.verify import HAND_ROUNDING, Checker, Mistake
from symbackprop.derivation import Derivation
from symbackprop.names import name_of
from symbackprop.network import Network, Partial
from symbackprop.numbers.evaluate import evaluate_definitions
from symbackprop.numbers.rounding import round_half_up, significant
from symbackprop.solution.figure import Figure, Paths, downstream_paths, gradient_paths
from symbackprop.solution.model import Note, Section, Step, WorkedSolution
from symbackprop.solution.reports import describe


KINDS = ("sign", "dropped-factor", "updated-weight", "missing-term", "swapped", "wrong-weight", "distribution")
"""The checker's kinds of mistake, the classic ones first: out - target for target - out, the activation's
derivative (or another factor of the chain) left out, an updated weight used too early, a path's term left out
of a sum, a neighbour's value (out_h2 for out_h1), a weight of another path."""
LIKELIEST = 5
"""Wrong answers each step keeps in the order of likeliness."""
NEAREST = 2
"""Wrong answers each step keeps besides, those of the rest nearest the right value: a number typed close to the
right one is most likely one of them."""


@dataclass(frozen=True)
class WrongAnswer:
    """A mistake someone makes in a step, and the value it gives when everything else is right."""

    value: str
    description: Note


@dataclass(frozen=True)
class Question:
    """One step to answer: the step as the worked solution shows it, and how to judge an answer."""

    key: str
    section: Section
    """The section the step is in, its title and symbol (Gradient for w_5) for a heading."""
    step: Step
    exact: str
    by_hand: dict[int, str]
    """Decimals -> the value with every intermediate rounded to that many decimals, where that changes it."""
    wrong: tuple[WrongAnswer, ...]
    nodes: tuple[str, ...]
    """The figure's nodes the step is about (its quantities' neurons and inputs)."""
    edges: tuple[tuple[str, str], ...]
    """The figure's edges (source, target) whose parameter the step uses."""


@dataclass(frozen=True)
class TutorPage:
    """The worked solution (its figure, numerals and title) and its steps as questions."""

    name: str
    """The spec's name, part of the key the page keeps progress under."""
    solution: WorkedSolution
    questions: tuple[Question, ...]
    openings: tuple[Opening, ...] = ()
    """What clicking each part of the figure shows (`opened`)."""


@dataclass(frozen=True)
class Opening:
    """A part of the figure to click (a weight, or any node): its paths to the loss, as the worked solution's
    figure of its gradient lights them, and the question where the derivation of its gradient starts."""

    part: str
    """"edge" or "node"."""
    key: str
    """The figure's key of the part: "h1 o1" (an edge), "h1" (a node)."""
    label: Symbol
    """What the part is: w_5, b_2, h1, i_1."""
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    question: str | None
    """The first question of the section that derives its gradient (a neuron's: its delta's); None for an input."""


Highlight = Callable[[Step], tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]
"""A step's nodes and edges (source, target) in the figure, by their keys."""


def tutor_page(name: str, solution: WorkedSolution, checker: Checker, highlight: Highlight | None = None) -> TutorPage:
    """Every step of `solution` with a numeral the checker can judge, as a question; `highlight` finds a step's
    part of the figure (by default a layered network's: `_drawn`)."""
    values = checker.points[0]
    hand = {places: evaluate_definitions(checker.definitions, checker.start[0], places) for places in HAND_ROUNDING}
    highlight = highlight or partial(_drawn, checker.derivation.network, solution.figure)
    questions, asked = [], {}
    for section, step in solution.steps():
        if not isinstance(step.result, str) or step.symbol not in values \
                or asked.setdefault(step.symbol, step.result) != step.result:
            continue  # shown again with another number: another order of update's (E_total^+), not the checker's
        symbol, exact = step.symbol, values[step.symbol]
        by_hand = {places: str(round_half_up(point[symbol], places)) for places, point in hand.items()
                   if round_half_up(point[symbol], places) != round_half_up(exact, places)}
        wrong = tuple(WrongAnswer(significant(value), Note(describe(mistake)))
                      for mistake, value in likeliest(checker.own_mistakes(symbol), exact))
        nodes, edges = highlight(step)
        questions.append(Question(f"step-{len(questions) + 1}", section, step, significant(exact), by_hand,
                                  wrong, nodes, edges))
    return TutorPage(name, solution, tuple(questions))


def numbered_steps(solution: WorkedSolution) -> int:
    """How many steps of `solution` show a number: the most questions its page can ask."""
    return sum(isinstance(step.result, str) for _, step in solution.steps())


def _drawn(network: Network, figure: Figure | None, step: Step) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The figure's nodes whose input, bias, net or out the step names, and the edges of the parameters it names."""
    if figure is None:
        return (), ()
    names = set().union(*(_atoms(expr) for expr in (step.symbol, *step.forms)))
    neurons = {n.label for n in network.neurons if {n.net, n.out} & names}
    return (tuple(n.key for n in figure.nodes if n.label in names or n.key in neurons),
            tuple((e.source, e.target) for e in figure.edges
                  if e.parameter in names and (not neurons or e.target in neurons)))


def _atoms(expr: Expr) -> set[Symbol]:
    """The symbols of `expr`, a partial derivative's own two among them."""
    found: set[Symbol] = set()
    for symbol in expr.free_symbols:
        found.add(symbol)
        if isinstance(symbol, Partial):
            found |= _atoms(symbol.of) | _atoms(symbol.wrt)
    return found


def likeliest(mistakes: list[tuple[Mistake, mpmath.mpf]], exact: mpmath.mpf) -> list[tuple[Mistake, mpmath.mpf]]:
    """The step's wrong answers worth embedding: the `LIKELIEST` first in the order of likeliness, then the
    `NEAREST` of the others to the right value; never one that gives the right value (the page could never
    offer it). The order of likeliness takes the kinds in turn (`KINDS`: one of each, then a second of each,
    ...), each kind's own in its order (a weight of another path by how near its number is: w_6 for w_7
    first), so the few kept are different slips rather than 56 ways of one. A wide network's step has
    hundreds (net_h1,1 of 8 inputs in a layer of 8: 457): all of them made its page 7 MB."""
    wrong = [(mistake, value) for mistake, value in mistakes if value != exact]
    by_kind: dict[str, list] = {}
    for pair in sorted(wrong, key=lambda pair: _order_in_kind(pair[0])):
        by_kind.setdefault(pair[0].kind, []).append(pair)
    kinds = sorted(by_kind, key=lambda kind: (KINDS.index(kind) if kind in KINDS else len(KINDS), kind))
    turns = [by_kind[kind][turn] for turn in range(max(map(len, by_kind.values()), default=0))
             for kind in kinds if turn < len(by_kind[kind])]
    rest = sorted(turns[LIKELIEST:], key=lambda pair: abs(pair[1] - exact))  # stable: likeliness breaks ties
    return turns[:LIKELIEST] + rest[:NEAREST]


def _order_in_kind(mistake: Mistake) -> tuple:
    """A weight of another path by the distance of its number from the right one's (the document numbers
    them: w_6 is next to w_7), then its number; every mistake then by its words (a stable order: the checker
    finds a definition's symbols in a set)."""
    near = (0, 0)
    if mistake.kind == "wrong-weight":
        used, instead = (int(name_of(weight).subscript[-1]) for weight in (mistake.used, mistake.instead_of))
        near = (abs(used - instead), used)
    return near + ("".join(map(str, describe(mistake))),)


def opened(page: TutorPage, derivation: Derivation) -> TutorPage:
    """`page` with an opening for each weight, bias, input and neuron of its layered network's figure."""
    figure = page.solution.figure
    if figure is None:
        return page
    network = derivation.network
    derived = derivation_starts(page)
    gradients: dict[Expr, str] = {}  # the symbol of a section (Gradient for w_5) -> its first question
    for question, start in section_starts(page):
        if question.section.symbol is not None:
            gradients.setdefault(question.section.symbol, start)
    deltas = {delta.neuron.label: delta.symbol for delta in reversed(derivation.deltas)}
    parameters = {p.symbol: p for p in network.parameters}
    openings = [opening(figure, "edge", f"{edge.source} {edge.target}", edge.parameter,
                        gradient_paths(network, parameters[edge.parameter]), gradients.get(edge.parameter))
                for edge in figure.edges if edge.parameter in parameters]
    for node in figure.nodes:
        if node.label in parameters:
            openings.append(opening(figure, "node", node.key, node.label,
                                    gradient_paths(network, parameters[node.label]), gradients.get(node.label)))
        else:
            openings.append(opening(figure, "node", node.key, node.label, downstream_paths(network, node.key),
                                    derived.get(deltas.get(node.key))))
    return replace(page, openings=tuple(openings))


def section_starts(page: TutorPage) -> Iterator[tuple[Question, str]]:
    """Each question of `page` with the first question of its section: where the derivation it is part of
    starts."""
    starts: dict[int, str] = {}  # a section (by identity) -> its first question
    for question in page.questions:
        yield question, starts.setdefault(id(question.section), question.key)


def derivation_starts(page: TutorPage) -> dict[Expr, str]:
    """Each quantity `page` asks -> the first question of the section that first asks it (dE/dw_5 -> the first
    step of "Gradient for w_5")."""
    derived: dict[Expr, str] = {}
    for question, start in section_starts(page):
        derived.setdefault(question.step.symbol, start)
    return derived


def opening(figure: Figure, part: str, key: str, label: Symbol, paths: Paths, question: str | None) -> Opening:
    """What clicking a part of `figure` shows: its `paths` (keys of nodes and edges), in the figure's order."""
    return Opening(part, key, label, *in_figure_order(figure, paths), question)


def in_figure_order(figure: Figure, paths: Paths) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The nodes and edges of `paths` as `figure` draws them, in its order."""
    nodes, edges = paths
    return (tuple(n.key for n in figure.nodes if n.key in nodes),
            tuple((e.source, e.target) for e in figure.edges if (e.source, e.target) in edges))
