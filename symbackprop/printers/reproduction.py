"""The reproduction of a document as a table (text, Markdown) or a JSON list, from `checks.document` rows."""

from __future__ import annotations

import json

from sympy import Expr

from symbackprop.checks.document import Row
from symbackprop.numbers.rounding import significant
from symbackprop.printers import printer
from symbackprop.printers.math import latex_formula, text_formula
from symbackprop.solution import Note, Section, Table

COMPUTED_DIGITS = 20
TABLE_FORMATS = ("text", "markdown")


def reproduction_table(rows: list[Row], title: str, fmt: str = "text", *, ascii: bool = False) -> str:
    """Quantity, printed value, engine value, engine value at the printed digits, status; notes below.

    `fmt` is one of TABLE_FORMATS; `ascii` makes the text table plain ASCII instead of Unicode math.
    """
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"a reproduction table is text or markdown, not {fmt!r}")
    header = ("#", "quantity", "after rounds", "document", "engine", "engine, printed digits", "status")
    cells, notes = [], []
    for number, row in enumerate(rows, 1):
        status = row.status
        if row.note:
            notes.append(Note(f"[{number}] {row.note}"))
            status += f" [{number}]"
        engine = row.computed if isinstance(row.computed, Expr) else significant(row.computed, COMPUTED_DIGITS)
        cells.append((str(number), row.quantity, "" if row.steps is None else f"{row.steps:,}", row.document,
                      engine, row.rounded or "", status))
    matched = sum(row.status == "match" for row in rows)
    summary = Note(f"{matched} of {len(rows)} printed items match; {len(rows) - matched} are errata.")
    section = Section(title, (summary, Table(header, tuple(cells)), *notes))
    return printer(fmt, ascii=ascii)._print(section) + "\n"


def reproduction_json(rows: list[Row]) -> str:
    """The rows as a JSON list; `computed` is a decimal string or the engine's formula in LaTeX."""
    records = []
    for row in rows:
        formula = isinstance(row.computed, Expr)
        records.append({
            "section": row.section,
            "kind": "formula" if formula else "number",
            "quantity": latex_formula(row.quantity),
            "quantity_text": text_formula(row.quantity),
            "steps": row.steps,
            "document": row.document,
            "computed": latex_formula(row.computed) if formula else significant(row.computed, COMPUTED_DIGITS),
            "rounded": row.rounded,
            "status": row.status,
            "note": row.note,
            "alternatives": {order: significant(value, COMPUTED_DIGITS) for order, value in row.alternatives.items()},
        })
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
