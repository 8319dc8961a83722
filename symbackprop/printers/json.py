"""The worked solution as JSON: every step with its formulas in LaTeX and text, and its numbers."""

from __future__ import annotations

import json

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.math import latex_formula, text_formula
from symbackprop.solution import Note, Section, Step, Table, WorkedSolution


class JsonPrinter(SolutionPrinter):
    def doprint(self, solution: WorkedSolution) -> str:
        self.numerals = solution.numerals
        return json.dumps(self._print(solution), indent=2, ensure_ascii=False) + "\n"

    def _print_WorkedSolution(self, solution: WorkedSolution) -> dict:
        return {"title": solution.title, "decimals": solution.places,
                "sections": self._print_children(solution.sections)}

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
            "result": step.result,
            "rule": None if step.rule is None else type(step.rule).__name__,
            "label": step.label,
        }

    def _print_Table(self, table: Table) -> dict:
        return {"type": "table", "header": list(table.header),
                "rows": [[c if isinstance(c, str) else latex_formula(c) for c in row] for row in table.rows]}

    def _print_Note(self, note: Note) -> dict:
        return {"type": "note", "text": note.text}
