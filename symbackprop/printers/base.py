"""Printer dispatch over worked-solution records, the way SymPy's printers dispatch `_print_<Type>`.

A concrete printer implements `_print_WorkedSolution`, `_print_Section`, `_print_Step`
and `_print_Note` for its format, and `formula` for expressions; the equation chain of a
step (symbol = forms = numbers = result) is assembled here once for all formats, and so
is the one line that stands for a figure in formats that cannot draw one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sympy import Expr, Symbol

from symbackprop.printers.drawing import edge_gradient, edge_label, node_label
from symbackprop.solution import Note, Section, Step, WorkedSolution
from symbackprop.solution.figure import Figure


@dataclass
class Lines:
    """Consecutive one-line steps (the updates: w_1^+ = 0.149780716, ...), set as one block, equals signs in a
    column, as a textbook sets them; a printer that has no `_print_Lines` never sees one."""

    steps: list[Step]


class SolutionPrinter:
    """Base printer: `doprint(solution)` renders a `WorkedSolution` to a string."""

    def __init__(self) -> None:
        self.numerals: Mapping[Symbol, str] = {}
        self.depth = 0

    def doprint(self, solution: WorkedSolution) -> str:
        self.numerals = solution.numerals
        return self._print(solution)

    def _print(self, record: object) -> str:
        for cls in type(record).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(record)
        raise TypeError(f"{type(self).__name__} cannot print {type(record).__name__}")

    def _print_children(self, items) -> list:
        self.depth += 1
        try:
            return [self._print(item) for item in items]
        finally:
            self.depth -= 1

    def formula(self, expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
        raise NotImplementedError

    def blocks(self, items: tuple) -> list:
        """A section's items, each run of one-line steps (symbol = result, no rule label) gathered into `Lines`."""
        blocks: list = []
        for item in items:
            if not (isinstance(item, Step) and item.label is None and len(self.equation_parts(item)) == 2):
                blocks.append(item)
            elif blocks and isinstance(blocks[-1], Lines):
                blocks[-1].steps.append(item)
            else:
                blocks.append(Lines([item]))
        return blocks

    def inline_formula(self, expr: Expr) -> str:
        """A formula inside running text (a title): plain for text, within $...$ for LaTeX."""
        return self.formula(expr)

    def cell(self, value: str | Expr) -> str:
        """A table cell: text as is, a formula inline."""
        return self.text(value) if isinstance(value, str) else self.inline_formula(value)

    def text(self, words: str) -> str:
        """Running text, escaped as the format needs."""
        return words

    def numeral(self, numeral: str) -> str:
        """A number from the numbers stage, where a formula would stand."""
        return numeral

    def prose(self, note: Note) -> str:
        """A note's words, escaped as the format needs, with its formulas inline."""
        return "".join(self.text(part) if isinstance(part, str) else self.inline_formula(part) for part in note.parts)

    def title(self, section: Section | Figure) -> str:
        if section.symbol is None:
            return self.text(section.title)
        return f"{self.text(section.title)} {self.inline_formula(section.symbol)}"

    def _print_Figure(self, figure: Figure) -> str:
        """One line: 'Paths of dE_total/dw_5: h1 -> o1 (w_5).', the highlighted edges or else every edge;
        a graph's edge with its value and gradient: 'x -> q (value -2, gradient -4)'."""
        edges = []
        for edge in figure.path or figure.edges:
            source, target = (node_label(figure.node(key), self.inline_formula, self.numeral)
                              for key in (edge.source, edge.target))
            label = edge_label(edge, figure, self.inline_formula, self.numeral)
            gradient = edge_gradient(edge, figure, self.numeral)
            if edge.parameter is None:
                label = ", ".join(f"{word} {part}" for word, part in (("value", label), ("gradient", gradient))
                                  if part is not None) or None
            edges.append(f"{source} -> {target}" + ("" if label is None else f" ({label})"))
        return f"{self.title(figure)}: {', '.join(edges)}."

    def equation_parts(self, step: Step) -> list[str]:
        """symbol, each form, the numbers substituted, the result: printed, repeats dropped."""
        parts = [self.formula(step.symbol)] + [self.formula(form) for form in step.forms]
        if step.substituted is not None and not isinstance(step.substituted, Symbol):
            parts.append(self.formula(step.substituted, self.numerals))
        if isinstance(step.result, str):
            parts.append(self.numeral(step.result))
        elif step.result is not None:
            parts.append(self.formula(step.result, self.numerals))
        kept: list[str] = []
        for part in parts:
            if not kept or kept[-1] != part:
                kept.append(part)
        return kept
