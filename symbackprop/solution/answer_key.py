"""An exercise's answer key: what its sheet asks, each answered by the worked solution's own line.

A worked solution states most quantities more than once (a gradient by the chain rule, then by its δ form or
its layer-level form; a node's formula again under its gradient), and a layer exercise's runs to hundreds of
lines. A question shows the key instead: one line per quantity the sheet asks (`quantity = ?`), in the
sheet's order, taken whole from the worked solution (its last line giving the value, so a layer's layer-level
form and a network's δ form), never written here.
"""

from __future__ import annotations

from sympy import Expr

from symbackprop.solution.model import Section, Step, WorkedSolution

ASKED = "?"
"""The result a sheet's question carries: `quantity = ?`."""


def answer_key(sheet: WorkedSolution, solution: WorkedSolution, title: str) -> WorkedSolution:
    """The key of `sheet`, every line from `solution`; a quantity asked but never given a value is an error."""
    answered = {step.symbol: step for _, step in solution.steps() if step.result is not None}
    asked = asked_quantities(sheet)
    missing = [str(quantity) for quantity in asked if quantity not in answered]
    if missing:
        raise ValueError(f"the worked solution gives no value for {', '.join(missing)}")
    return WorkedSolution(title, (Section("Answers", tuple(answered[quantity] for quantity in asked)),),
                          solution.numerals, solution.places)


def asked_quantities(sheet: WorkedSolution) -> tuple[Expr, ...]:
    """The quantities `sheet` asks (`quantity = ?`), in its order."""
    return tuple(dict.fromkeys(step.symbol for _, step in sheet.steps() if step.result == ASKED))


def opening_step(key: WorkedSolution) -> Step:
    """The key's first line with its first formula only, its numbers and value left as `...`: how an answer
    starts (a question's placeholder)."""
    _, first = next(key.steps())
    return Step(first.symbol, first.forms[:1], None, "...")
