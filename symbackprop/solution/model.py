"""A worked solution as plain records: sections of steps, ready for any printer.

A `Step` is one displayed line of working: the symbol, its symbolic forms, the same
formula with numbers substituted, and the result. Numbers arrive here already rounded
to strings by the numbers stage (`WorkedSolution.numerals`), so printers only lay them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sympy import Expr, Symbol

from symbackprop.derivation.rules import Rule
from symbackprop.solution.figure import Figure


@dataclass(frozen=True)
class Step:
    """symbol = forms[0] = forms[1] = ... = substituted (as numbers) = result."""

    symbol: Expr
    forms: tuple[Expr, ...]
    substituted: Expr | None = None
    result: str | Expr | None = None
    """The value as a numeral; for a matrix, the explicit matrix of its entries' symbols, printed as their numerals."""
    rule: Rule | None = None
    """For a local derivative: the differentiation rules behind `forms`."""
    label: str | None = None
    """What justifies the line, e.g. 'power rule, with the chain rule' in a full derivation."""


@dataclass(frozen=True)
class Note:
    """A sentence of prose between steps: words, or words and formulas (printed inline) in turn."""

    text: str | tuple[str | Expr, ...]

    @property
    def parts(self) -> tuple[str | Expr, ...]:
        return (self.text,) if isinstance(self.text, str) else self.text


@dataclass(frozen=True)
class Table:
    """A table of cells; a cell is text or a formula (printed inline)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str | Expr, ...], ...]


@dataclass(frozen=True)
class Section:
    """A titled group of steps; `symbol`, when given, is printed as a formula after the title."""

    title: str
    items: tuple[Step | Note | Table | Figure | Section, ...]
    symbol: Expr | None = None


@dataclass(frozen=True)
class WorkedSolution:
    """Every result people read, as one record: a worked solution, and likewise a report (gradients,
    training, a check's verdict, a reproduction), which every printer prints."""

    title: str
    sections: tuple[Section, ...]
    numerals: dict[Symbol, str] = field(default_factory=dict)
    """Every symbol's value as the displayed numeral, for the numbers-substituted lines."""
    places: int | None = 9
    """The decimals every number is shown to; None for a report whose numbers keep their digits."""
    figure: Figure | None = None
    """The network with every parameter's value, shown after the title where the format can draw it."""
    kind: str = "solution"
    """What the result is, for JSON: solution, derivation, exercise, gradients, training, check, reproduction."""
    data: dict[str, object] = field(default_factory=dict)
    """The result's values for JSON, under the keys docs/api.md lists for its kind: numerals already rounded
    by the numbers stage, words, formulas (Expr) and sentences (Note), in lists and dicts."""

    def steps(self) -> Iterator[tuple[Section, Step]]:
        """(section, step) for every step, in the document's order; a subsection's step with its own section."""
        return _steps(self.sections)


def _steps(sections: tuple[Section, ...]) -> Iterator[tuple[Section, Step]]:
    for section in sections:
        for item in section.items:
            if isinstance(item, Section):
                yield from _steps((item,))
            elif isinstance(item, Step):
                yield section, item
