"""The worked solution as Markdown: headings, prose, and math in $$ ... $$ for GitHub and Jupyter."""

from __future__ import annotations

from sympy import Expr

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.latex import LatexPrinter
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution


class MarkdownPrinter(LatexPrinter):
    """LaTeX formulas in Markdown structure; shares `formula` with the LaTeX printer."""

    def text(self, words: str) -> str:
        """Words as Markdown text: a table's bar escaped, and HTML markup (a name such as <script>) shown, not run."""
        return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")

    def inline_formula(self, expr: Expr) -> str:
        return f"${self.formula(expr)}$"

    def _print_WorkedSolution(self, solution: WorkedSolution) -> str:
        return "\n\n".join([f"# {self.text(solution.title)}", *self._print_children(solution.sections)]) + "\n"

    def _print_Section(self, section: Section) -> str:
        heading = "#" * min(self.depth + 1, 6)
        return "\n\n".join([f"{heading} {self.title(section)}", *self._print_children(section.items)])

    def _print_Step(self, step: Step) -> str:
        label = "" if step.label is None else rf" \qquad \text{{({step.label})}}"
        return f"$$ {' = '.join(self.equation_parts(step))}{label} $$"

    def _print_Table(self, table: Table) -> str:
        lines = ["| " + " | ".join(self.text(h) for h in table.header) + " |", "|" + "---|" * len(table.header)]
        lines += ["| " + " | ".join(self.cell(c) for c in row) + " |" for row in table.rows]
        return "\n".join(lines)

    def _print_Note(self, note: Note) -> str:
        """Words as they are (a paragraph needs no escapes), formulas inline."""
        return "".join(part if isinstance(part, str) else self.inline_formula(part) for part in note.parts)

    _print_Figure = SolutionPrinter._print_Figure
    """A figure as one line of text: Markdown cannot draw it."""
