"""The worked solution as one self-contained HTML5 page: MathML formulas, SVG figures, a small inline style.

No scripts, no external styles, fonts or images: the page reads the same with JavaScript
off. Each step is a grid of formulas, so the equals signs line up as in a LaTeX align*.
The same content, as a fragment with its style scoped to it, is how a notebook shows every
result (`html_fragment`): browsers render MathML without MathJax or a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from sympy import Expr, Symbol

from symbackprop.printers.base import Lines, SolutionPrinter
from symbackprop.printers.math import text_formula
from symbackprop.printers.mathml import mathml_formula, mathml_numeral
from symbackprop.printers.svg import svg_picture
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution
from symbackprop.solution.figure import Figure

SCOPE = "symbackprop"
"""The class of the element that holds a worked solution; every rule of the style is scoped to it."""

STYLE = """
.symbackprop { --ink: #1f2328; --muted: #5f6368; --rule: #d8dee4; color: var(--ink);
  font: 17px/1.55 "Latin Modern Roman", "CMU Serif", "DejaVu Serif", Georgia, serif; }
.symbackprop math { font-family: "Latin Modern Math", "STIX Two Math", "DejaVu Math TeX Gyre", math; font-size: 1.05em; }
.symbackprop h1 { font-weight: normal; font-size: 2rem; text-align: center; margin: 0 0 1.5rem; }
.symbackprop h2 { font-size: 1.45rem; border-bottom: 1px solid var(--rule); padding-bottom: .2em; margin: 3rem 0 1rem; }
.symbackprop h3 { font-size: 1.2rem; margin: 2.5rem 0 .5rem; }
.symbackprop h4, .symbackprop h5, .symbackprop h6 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.symbackprop p { margin: .8em 0; }
.symbackprop .step { display: flex; flex-wrap: wrap; align-items: last baseline; column-gap: 2em; row-gap: .3em;
  width: fit-content; max-width: 100%; box-sizing: border-box; margin: 1.2em auto; padding: .2em 0;
  overflow-x: auto; overflow-y: hidden; }
.symbackprop .lines { display: grid; grid-template-columns: repeat(2, max-content); align-items: baseline;
  justify-items: start; column-gap: .3em; row-gap: .5em; }
.symbackprop .lines > math { grid-column: 2; }
.symbackprop .lines > math.lhs { grid-column: 1; justify-self: end; }
.symbackprop .why { margin-left: auto; color: var(--muted); font-size: .9em; }
.symbackprop mtd { text-align: left; padding: .1em .4em; }
.symbackprop figure { margin: 1.5rem 0; text-align: center; }
.symbackprop figure svg { max-width: 100%; height: auto; }
.symbackprop figcaption { color: var(--muted); font-size: .92em; }
.symbackprop .table { overflow-x: auto; }
.symbackprop table { border-collapse: collapse; margin: 1rem auto; font-size: .8em; font-variant-numeric: tabular-nums; }
.symbackprop th, .symbackprop td { padding: .3em .5em; border-bottom: 1px solid var(--rule); text-align: left; }
.symbackprop td { white-space: nowrap; }
.symbackprop th { font-weight: 600; border-bottom-width: 2px; vertical-align: bottom; }
@media print {
  .symbackprop { font-size: 11pt; }
  .symbackprop .step, .symbackprop figure { break-inside: avoid; }
  .symbackprop .table { overflow: visible; }
  .symbackprop table { font-size: 7pt; margin: 1rem 0; }
  .symbackprop th, .symbackprop td { padding: .2em .3em; }
}
""".strip()
"""A step is as wide as its formulas and centred by its margins; a step wider than the page is as
wide as the page and scrolls, from its left edge (a centred grid would overflow on both sides, and its
left part could not be scrolled to). Its lines are a grid, equals signs in a column; a rule label
stands beside the last line, or below it at the right when the page has no room beside it. On paper
the checks table is set small enough to fit the sheet."""

PAGE_STYLE = """
body { margin: 0; background: #f4f2ee; }
main { max-width: 56rem; margin: 0 auto; padding: 2.5rem 2rem 4rem; background: #ffffff; }
@media print { body { background: none; } main { padding: 0; } }
""".strip()
"""The page around a worked solution; a notebook fragment has none of it."""


class HtmlPrinter(SolutionPrinter):
    """A whole page; with `fragment`, a <div> to embed in another page (a notebook's output), its
    style scoped to the div so that nothing outside it changes."""

    DISPLAY = ' displaystyle="true"'
    """The attribute that sets a step's formulas in display style (a page that sets it otherwise has none)."""

    def __init__(self, *, fragment: bool = False) -> None:
        super().__init__()
        self.fragment = fragment

    def formula(self, expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
        return mathml_formula(expr, numerals)

    def inline_formula(self, expr: Expr) -> str:
        return f"<math>{self.formula(expr)}</math>"

    def numeral(self, numeral: str) -> str:
        return mathml_numeral(numeral)

    def text(self, words: str) -> str:
        return escape(words)

    def _print_WorkedSolution(self, solution: WorkedSolution) -> str:
        figure = [] if solution.figure is None else [self._print(solution.figure)]
        content = [f"<h1>{self.text(solution.title)}</h1>", *figure, *self._print_children(solution.sections)]
        if self.fragment:
            return "\n".join([f'<div class="{SCOPE}">', f"<style>\n{STYLE}\n</style>", *content, "</div>", ""])
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{self.text(solution.title)}</title>",
            f"<style>\n{PAGE_STYLE}\n{STYLE}\n</style>",
            "</head>",
            "<body>",
            f'<main class="{SCOPE}">',
            *content,
            "</main>",
            "</body>",
            "</html>",
            "",
        ])

    def _print_Section(self, section: Section) -> str:
        level = min(self.depth + 1, 6)
        return "\n".join([f"<section>\n<h{level}>{self.title(section)}</h{level}>",
                          *self._print_children(self.blocks(section.items)), "</section>"])

    def _print_Step(self, step: Step) -> str:
        why = "" if step.label is None else f'<span class="why">({self.text(step.label)})</span>'
        return f'<div class="step"><div class="lines">{self._cells(step)}</div>{why}</div>'

    def _print_Lines(self, block: Lines) -> str:
        """One-line steps in one grid, their equals signs in a column."""
        return f'<div class="step"><div class="lines">{"".join(map(self._cells, block.steps))}</div></div>'

    def _cells(self, step: Step) -> str:
        """The step's left-hand side, then '= part' for each part: cells of the two columns of a grid."""
        first, *rest = self.equation_parts(step)
        return f'<math class="lhs"{self.DISPLAY}>{first}</math>' + \
            "".join(f'<math{self.DISPLAY}><mo>=</mo>{part}</math>' for part in rest)

    def _print_Note(self, note: Note) -> str:
        return f"<p>{self.prose(note)}</p>"

    def _print_Table(self, table: Table) -> str:
        header = "".join(f"<th>{self.text(cell)}</th>" for cell in table.header)
        rows = "\n".join("<tr>" + "".join(f"<td>{self.cell(cell)}</td>" for cell in row) + "</tr>"
                         for row in table.rows)
        return f'<div class="table"><table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table></div>'

    def _print_Figure(self, figure: Figure) -> str:
        spoken = figure.title if figure.symbol is None else f"{figure.title} {text_formula(figure.symbol)}"
        return f"<figure>\n{svg_picture(figure, spoken)}\n<figcaption>{self.title(figure)}</figcaption>\n</figure>"


def html_fragment(solution: WorkedSolution) -> str:
    """The worked solution as a <div> for a notebook's output: no page, no global style."""
    return HtmlPrinter(fragment=True).doprint(solution)

