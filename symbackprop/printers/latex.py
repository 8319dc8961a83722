"""The worked solution as a standalone LaTeX document (amsmath), one align* per step, figures in TikZ."""

from __future__ import annotations

from collections.abc import Mapping

from sympy import Expr, Symbol

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.math import latex_formula
from symbackprop.printers.tikz import tikz_picture
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution
from symbackprop.solution.figure import Figure

_SECTIONS = (r"\section*", r"\subsection*", r"\subsubsection*", r"\paragraph*")


class LatexPrinter(SolutionPrinter):
    def formula(self, expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
        return latex_formula(expr, numerals)

    def _print_WorkedSolution(self, solution: WorkedSolution) -> str:
        body = "\n\n".join(self._print_children(solution.sections))
        return "\n".join([
            r"\documentclass{article}",
            r"\usepackage{amsmath}",
            r"\usepackage[margin=2cm]{geometry}",
            r"\usepackage{tikz}",
            rf"\title{{{_escape(solution.title)}}}",
            r"\date{}",
            r"\begin{document}",
            r"\maketitle",
            *([] if solution.figure is None else [self._print(solution.figure), ""]),
            body,
            r"\end{document}",
            "",
        ])

    def inline_formula(self, expr: Expr) -> str:
        return f"${self.formula(expr)}$"

    def _print_Section(self, section: Section) -> str:
        command = _SECTIONS[min(self.depth - 1, len(_SECTIONS) - 1)]
        title = _escape(section.title) + ("" if section.symbol is None else f" {self.inline_formula(section.symbol)}")
        return "\n".join([f"{command}{{{title}}}", *self._print_children(section.items)])

    def _print_Step(self, step: Step) -> str:
        first, *rest = self.equation_parts(step)
        if not rest:
            return f"\\[ {first} \\]"
        lines = [f"  {first} &= {rest[0]}"] + [f"  &= {part}" for part in rest[1:]]
        if step.label is not None:
            lines[-1] += rf" && \text{{({_escape(step.label)})}}"
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"

    def _print_Table(self, table: Table) -> str:
        lines = [r"\begin{center}\scriptsize", rf"\begin{{tabular}}{{{'l' * len(table.header)}}}",
                 " & ".join(_escape(h) for h in table.header) + r" \\ \hline"]
        lines += [" & ".join(self.cell(c) for c in row) + r" \\" for row in table.rows]
        return "\n".join(lines + [r"\end{tabular}", r"\end{center}"])

    def text(self, words: str) -> str:
        return _escape(words)

    def _print_Note(self, note: Note) -> str:
        return _escape(note.text)

    def _print_Figure(self, figure: Figure) -> str:
        return "\n".join([r"\begin{center}", tikz_picture(figure), "", rf"{{\small {self.title(figure)}}}",
                          r"\end{center}"])


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}"}


def _escape(text: str) -> str:
    """Text-mode special characters of LaTeX, escaped."""
    return "".join(_SPECIAL.get(char, char) for char in text)
