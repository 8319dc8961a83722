"""Every result as JSON: every step with its formulas in LaTeX and text, and its numbers; a report's values too."""

from __future__ import annotations

import json

from sympy import Expr

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.math import latex_formula, text_formula
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution
from symbackprop.solution.figure import Figure

SCHEMA_VERSION = 1
"""Raised when a key of some kind's JSON changes meaning or goes; docs/api.md lists every kind's keys."""


class JsonPrinter(SolutionPrinter):
    """Every result in one shape: schema_version, kind, title, decimals, figure, the kind's own values, sections."""

    def doprint(self, solution: WorkedSolution) -> str:
        self.numerals = solution.numerals
        return json.dumps(self._print(solution), indent=2, ensure_ascii=False) + "\n"

    def _print_WorkedSolution(self, solution: WorkedSolution) -> dict:
        record = {"schema_version": SCHEMA_VERSION, "kind": solution.kind, "title": solution.title,
                  "decimals": solution.places,
                  "figure": None if solution.figure is None else self._print(solution.figure)}
        record |= {key: _value(value) for key, value in solution.data.items()}
        return {**record, "sections": self._print_children(solution.sections)}

    def _print_Section(self, section: Section) -> dict:
        record = {"type": "section", "title": section.title}
        if section.symbol is not None:
            record["symbol"] = {"latex": latex_formula(section.symbol), "text": text_formula(section.symbol)}
        record["items"] = self._print_children(section.items)
        return record

    def _print_Step(self, step: Step) -> dict:
        substituted = step.substituted
        return {
            "type": "step",
            "symbol": {"latex": latex_formula(step.symbol), "text": text_formula(step.symbol)},
            "forms": [{"latex": latex_formula(form), "text": text_formula(form)} for form in step.forms],
            "substituted": None if substituted is None else {
                "latex": latex_formula(substituted, self.numerals), "text": text_formula(substituted, self.numerals)},
            "result": self._result(step.result),
            "rule": None if step.rule is None else type(step.rule).__name__,
            "label": step.label,
        }

    def _result(self, result: str | Expr | None) -> str | list[list[str]] | None:
        """A numeral as it is; a matrix as its rows of numerals."""
        if result is None or isinstance(result, str):
            return result
        return [[self.numerals[entry] for entry in row] for row in result.tolist()]

    def _print_Table(self, table: Table) -> dict:
        return {"type": "table", "header": list(table.header),
                "rows": [[c if isinstance(c, str) else latex_formula(c) for c in row] for row in table.rows]}

    def _print_Note(self, note: Note) -> dict:
        """The note as plain text, its formulas too."""
        return {"type": "note", "text": note_text(note)}

    def _print_Figure(self, figure: Figure) -> dict:
        """The layout: nodes at (x, y) in column and row units, y downwards; edges with their parameters (a
        graph's: with their values, gradients and bends)."""
        return {
            "type": "figure", "title": figure.title,
            "symbol": None if figure.symbol is None else _formula(figure.symbol),
            "nodes": [{"key": n.key, "label": _formula(n.label), "kind": n.kind, "x": n.x, "y": n.y,
                       "value": n.value, "highlighted": n.highlighted} for n in figure.nodes],
            "edges": [{"source": e.source, "target": e.target,
                       "parameter": None if e.parameter is None else _formula(e.parameter), "value": e.value,
                       "gradient": e.gradient, "label_at": None if e.at is None else list(e.at),
                       "via": [list(point) for point in e.via], "highlighted": e.highlighted}
                      for e in figure.edges],
        }


def note_text(note: Note) -> str:
    """A sentence's words and formulas as plain Unicode text, as every JSON result writes it."""
    return "".join(p if isinstance(p, str) else text_formula(p) for p in note.parts)


def _formula(expr) -> dict:
    return {"latex": latex_formula(expr), "text": text_formula(expr)}


def _value(value: object) -> object:
    """A result's value as JSON: a formula, or a sentence with formulas, as {"latex", "text"}; lists and
    dicts entry by entry; numerals, words, numbers, booleans and None as they are."""
    if isinstance(value, Expr):
        return _formula(value)
    if isinstance(value, Note):
        return {"latex": "".join(p if isinstance(p, str) else f"${latex_formula(p)}$" for p in value.parts),
                "text": note_text(value)}
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_value(item) for item in value]
    return value
