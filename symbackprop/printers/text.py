"""The worked solution as text for a terminal: Unicode math, or plain ASCII for terminals and logs without UTF-8."""

from __future__ import annotations

from collections.abc import Mapping

from sympy import Expr, Symbol

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.math import text_formula, unicode_formula
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution

_UNDERLINES = "=-~."


class TextPrinter(SolutionPrinter):
    """Formulas in Unicode math (∂E_total/∂w₅, w₅⁺, x²), or with `ascii` in plain ASCII (dE_total/dw_5, w_5^+, x^2)."""

    def __init__(self, *, ascii: bool = False) -> None:
        super().__init__()
        self.ascii = ascii

    def formula(self, expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
        return (text_formula if self.ascii else unicode_formula)(expr, numerals)

    def _heading(self, title: str) -> str:
        return f"{title}\n{_UNDERLINES[min(self.depth, len(_UNDERLINES) - 1)] * len(title)}"

    def _print_WorkedSolution(self, solution: WorkedSolution) -> str:
        body = "\n\n".join(self._print_children(solution.sections))
        return f"{self._heading(solution.title)}\n\n{body}\n"

    def _print_Section(self, section: Section) -> str:
        lines = [("\n" if isinstance(item, (Section, Table)) and k else "") + text
                 for k, (item, text) in enumerate(zip(section.items, self._print_children(section.items)))]
        return "\n\n".join([self._heading(self.title(section)), "\n".join(lines)])

    def _print_Step(self, step: Step) -> str:
        equation = " = ".join(self.equation_parts(step))
        return equation if step.label is None else f"    {equation}    ({step.label})"

    def _print_Table(self, table: Table) -> str:
        rows = [list(table.header)] + [[self.cell(c) for c in row] for row in table.rows]
        widths = [max(len(row[k]) for row in rows) for k in range(len(table.header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _print_Note(self, note: Note) -> str:
        return self.prose(note)
