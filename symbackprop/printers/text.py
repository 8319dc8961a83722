"""The worked solution as text for a terminal: Unicode math, or plain ASCII for terminals and logs without UTF-8.

Lines are broken to a width when one is given (printers/wrapping.py): each step at its `=`, `+`/`-`
and `·`, prose at spaces, and a table too wide for it into blocks of columns.
"""

from __future__ import annotations

from collections.abc import Mapping

from sympy import Expr, Symbol

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.math import text_formula, unicode_formula
from symbackprop.printers.wrapping import wrap_formula, wrap_prose
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution
from symbackprop.solution.figure import Figure

_UNDERLINES = "=-~."


class TextPrinter(SolutionPrinter):
    """Formulas in Unicode math (∂E_total/∂w₅, w₅⁺, x²), or with `ascii` in plain ASCII (dE_total/dw_5, w_5^+, x^2);
    lines broken to `width` columns where they can be, or left whole with `width` None."""

    def __init__(self, *, ascii: bool = False, width: int | None = None) -> None:
        super().__init__()
        self.ascii = ascii
        self.width = width

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
        return wrap_formula(equation if step.label is None else f"    {equation}    ({step.label})", self.width)

    def _print_Figure(self, figure: Figure) -> str:
        return wrap_formula(super()._print_Figure(figure), self.width)

    def _print_Table(self, table: Table) -> str:
        """Columns side by side; when they are wider than `width`, blocks of them, each led by the first column."""
        rows = [list(table.header)] + [[self.cell(c) for c in row] for row in table.rows]
        widths = [max(len(row[k]) for row in rows) for k in range(len(table.header))]
        return "\n\n".join(_columns(rows, widths, block) for block in self._column_blocks(widths))

    def _column_blocks(self, widths: list[int]) -> list[list[int]]:
        """The columns of each block: the first column, then as many more as fit in `width` (one at least)."""
        if self.width is None or sum(widths) + 2 * (len(widths) - 1) <= self.width:
            return [list(range(len(widths)))]
        blocks: list[list[int]] = []
        for k in range(1, len(widths)):
            if not blocks or sum(widths[c] + 2 for c in blocks[-1]) + widths[k] > self.width:
                blocks.append([0])
            blocks[-1].append(k)
        return blocks

    def _print_Note(self, note: Note) -> str:
        return wrap_prose(self.prose(note), self.width)


def _columns(rows: list[list[str]], widths: list[int], columns: list[int]) -> str:
    """The table's `columns`, left-aligned, a rule of dashes under the header."""
    lines = ["  ".join(row[c].ljust(widths[c]) for c in columns).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * widths[c] for c in columns))
    return "\n".join(lines)
