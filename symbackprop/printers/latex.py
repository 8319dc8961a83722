"""The worked solution as a standalone LaTeX document (amsmath), one align* per step, figures in TikZ."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sympy import Expr, Symbol

from symbackprop.printers.base import Lines, SolutionPrinter
from symbackprop.printers.breaking import EQUALS, TEXT_WIDTH, WIDE_LEFT, broken, estimated_width
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
            r"\allowdisplaybreaks",  # a long run of steps (an align* of 30 rows) continues on the next page
            r"\usepackage{graphicx}",
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
        return "\n".join([f"{command}{{{title}}}", *self._print_children(self.blocks(section.items))])

    def _print_Lines(self, block: Lines) -> str:
        """One-line steps as the rows of one align*, their equals signs in a column."""
        return _align([f"  {first} &= {second}" for first, second in map(self.equation_parts, block.steps)])

    def _print_Step(self, step: Step) -> str:
        """One align*, equals signs in a column; a line too wide for the page is broken before an operator,
        and a left-hand side too wide to leave room beside it stands on its own line, the rest indented."""
        first, *rest = self.equation_parts(step)
        if not rest:
            return f"\\[ {first} \\]"
        lhs = estimated_width(first)
        if lhs > WIDE_LEFT:
            lines = [f"  & {line}" for line in broken(first, TEXT_WIDTH)]
            lines += self._right_sides(rest, TEXT_WIDTH - EQUALS, r"&\qquad ")
        else:
            lines = self._right_sides(rest, TEXT_WIDTH - lhs - EQUALS, "&")
            lines[0] = f"  {first} {lines[0].lstrip()}"
        if step.label is not None:
            lines[-1] += rf" \tag*{{({_escape(step.label)})}}"  # at the right margin, or below if no room
        return _align(lines)

    @staticmethod
    def _right_sides(parts: list[str], width: float, column: str) -> list[str]:
        """'= part' for each part, broken into lines no wider than `width`, continued lines indented."""
        lines = []
        for part in parts:
            head, *continued = broken(part, width)
            lines += [f"  {column}= {head}"] + [rf"  {column}\quad {line}" for line in continued]
        return lines

    def _print_Table(self, table: Table) -> str:
        """Small type, narrow gaps, and a heading of several words stacked, so that a wide table fits the page;
        rows spaced for the fractions in them. A table still too wide (numbers of 70 digits) is shrunk to the
        line's width."""
        lines = [r"\begin{center}\scriptsize\setlength{\tabcolsep}{3pt}",
                 r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                 rf"\begin{{tabular}}{{{'l' * len(table.header)}}}",
                 " & ".join(_stacked(_escape(h)) for h in table.header) + r" \\ \hline"]
        lines += [" & ".join(self.cell(c) for c in row) + r" \\[2pt]" for row in table.rows]
        return "\n".join(lines + [r"\end{tabular}}", r"\end{center}"])

    def text(self, words: str) -> str:
        return _escape(words)

    def _print_Note(self, note: Note) -> str:
        return self.prose(note)

    def _print_Figure(self, figure: Figure) -> str:
        return "\n".join([r"\begin{center}", tikz_picture(figure), "", rf"{{\small {self.title(figure)}}}",
                          r"\end{center}"])


def _align(lines: list[str]) -> str:
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def _stacked(heading: str) -> str:
    """'digits agreeing' as two lines, bottom-aligned with the one-line headings."""
    words = heading.split(" ")
    return heading if len(words) == 1 else r"\begin{tabular}[b]{@{}l@{}}" + r"\\".join(words) + r"\end{tabular}"


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}"}


_QUOTED = re.compile(r"(?<!\w)'([^']*)'(?!\w)")
_BARS = re.compile(r"\|([^|]*)\|")


def _escape(text: str) -> str:
    """Text-mode special characters of LaTeX, escaped; 'quoted' words in opening and closing quotes, and
    |x| between math bars (in text, the default font sets | as a dash)."""
    escaped = "".join(_SPECIAL.get(char, char) for char in text)
    escaped = _QUOTED.sub(r"`\1'", escaped)
    return _BARS.sub(r"$\\lvert$\1$\\rvert$", escaped).replace("|", r"\textbar{}")
