"""A tutor page's records: the worked solution's steps, each with its exact value and its wrong answers.

Every step of the worked solution that has a number the checker knows becomes a question, in the
document's order. Beside the step go what judging a typed number needs, worked out here once so the
page only compares: the exact value (to `DIGITS` significant digits), the value rounded as by hand at
each number of decimals where it differs, the likeliest mistakes in the step's own definition with the
values they give, and the nodes and edges of the figure the step is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sympy import Expr, Symbol

from symbackprop.checks.verify import HAND_ROUNDING, Checker
from symbackprop.network import Network, Partial
from symbackprop.numbers.evaluate import evaluate_definitions
from symbackprop.numbers.rounding import round_half_up, significant
from symbackprop.solution.figure import Figure
from symbackprop.solution.model import Note, Section, Step, WorkedSolution
from symbackprop.solution.reports import describe


@dataclass(frozen=True)
class WrongAnswer:
    """A mistake someone makes in a step, and the value it gives when everything else is right."""

    value: str
    description: Note


@dataclass(frozen=True)
class Question:
    """One step to answer: the step as the worked solution shows it, and how to judge an answer."""

    key: str
    section: str
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


Highlight = Callable[[Step], tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]
"""A step's nodes and edges (source, target) in the figure, by their keys."""


def tutor_page(name: str, solution: WorkedSolution, checker: Checker, highlight: Highlight | None = None) -> TutorPage:
    """Every step of `solution` with a numeral the checker can judge, as a question; `highlight` finds a step's
    part of the figure (by default a layered network's: `_drawn`)."""
    values = checker.points[0]
    hand = {places: evaluate_definitions(checker.definitions, checker.start[0], places) for places in HAND_ROUNDING}
    highlight = highlight or partial(_drawn, checker.derivation.network, solution.figure)
    questions, asked = [], {}
    for section, step in _steps(solution.sections):
        if not isinstance(step.result, str) or step.symbol not in values \
                or asked.setdefault(step.symbol, step.result) != step.result:
            continue  # shown again with another number: another order of update's (E_total^+), not the checker's
        symbol, exact = step.symbol, values[step.symbol]
        by_hand = {places: str(round_half_up(point[symbol], places)) for places, point in hand.items()
                   if round_half_up(point[symbol], places) != round_half_up(exact, places)}
        wrong = tuple(WrongAnswer(significant(value), Note(describe(mistake)))
                      for mistake, value in checker.own_mistakes(symbol))
        nodes, edges = highlight(step)
        questions.append(Question(f"step-{len(questions) + 1}", section, step, significant(exact), by_hand,
                                  wrong, nodes, edges))
    return TutorPage(name, solution, tuple(questions))


def numbered_steps(solution: WorkedSolution) -> int:
    """How many steps of `solution` show a number: the most questions its page can ask."""
    return sum(isinstance(step.result, str) for _, step in _steps(solution.sections))


def _steps(sections: tuple[Section, ...], title: str = ""):
    """(section title, step) for every step, in the document's order; a subsection's own title."""
    for section in sections:
        for item in section.items:
            if isinstance(item, Section):
                yield from _steps((item,))
            elif isinstance(item, Step):
                yield section.title, item


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
