"""Every row of the reproduction table, and that the table covers every number the document prints."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from symbackprop.checks.document import load_document

# The document's errata, as found by the engine; every other row must match exactly.
NUMBER_ERRATA = {("dE_o2/dout_h1", None), ("E_total", 1), ("E_total", 10000), ("out_o1", 10000), ("out_o2", 10000)}
FORMULA_ERRATA = {"net_{h1} = w_1 * i_1 + w_3 * i_2 + b_1 * 1"}

_document = load_document("mazur")


@pytest.fixture(scope="module")
def rows(mazur_rows):
    return mazur_rows


def _key(entry):
    return entry.get("formula") or f"{entry['quantity']} after {entry.get('steps')}"


@pytest.mark.parametrize("index", range(len(_document["row"])), ids=[_key(e) for e in _document["row"]])
def test_row(rows, index):
    entry, row = _document["row"][index], rows[index]
    assert row.document == (entry.get("formula") or entry["document"])
    if "formula" in entry:
        expected = "erratum" if entry["formula"] in FORMULA_ERRATA else "match"
        assert row.status == expected, row.note
        assert row.rounded is None
        return
    expected = "erratum" if (entry["quantity"], entry.get("steps")) in NUMBER_ERRATA else "match"
    assert row.status == expected, (row.rounded, row.note)
    assert (row.rounded == row.document) == (expected == "match")
    assert len(row.rounded.partition(".")[2]) == len(row.document.partition(".")[2])


def _row(rows, quantity, steps=None):
    (found,) = [r for r in rows if r.quantity.name == quantity and r.steps == steps and r.rounded is not None]
    return found


def test_rounding_slip_is_explained_by_hand_rounding(rows):
    row = _row(rows, "dE_o2/dout_h1")
    assert row.rounded == "-0.019049118"
    assert "rounded to 9 decimals, as by hand, gives -0.019049119" in row.note


def test_first_round_comes_from_the_output_first_order(rows):
    row = _row(rows, "E_total", 1)
    assert row.rounded == "0.291027774"
    assert "the 'output-first' order of update gives it (1 round, as stated)" in row.note
    assert str(row.alternatives["output-first"]).startswith("0.2910279239")


def test_ten_thousand_rounds(rows):
    for output in ("out_o1", "out_o2"):
        assert "the 'output-first' order of update gives it (10,000 rounds, as stated)" in _row(rows, output, 10000).note
    error = _row(rows, "E_total", 10000)
    assert "the 'simultaneous' order of update gives it after 9,999 rounds instead of the stated 10,000" in error.note
    assert "output-first" not in error.note.split(";")[1]


def test_formula_erratum_names_both_sides(rows):
    (row,) = [r for r in rows if r.status == "erratum" and r.rounded is None]
    assert row.quantity.name == "net_h1" and row.section == "Hidden layer"
    assert "at the spec's point the left side is 0.3775 and the right side 0.3825" in row.note


def test_printed_strings_are_verbatim_from_the_document(document_text):
    for entry in _document["row"]:
        assert (entry.get("formula") or entry["document"]) in document_text, entry


def test_every_number_the_document_prints_is_in_the_table(mazur, document_text):
    body = document_text[document_text.index("The Forward Pass"):document_text.index("If you’ve made it this far")]
    printed = set(re.findall(r"(?<![\w.])-?\d+\.\d+", body))
    spec = mazur.network.spec
    given = {*spec.samples[0].inputs, *spec.samples[0].targets, spec.learning_rate}
    given |= {value for layer in spec.layers for row in layer.weights for value in row}
    given |= {layer.bias for layer in spec.layers}
    in_table = {entry["document"] for entry in _document["row"] if "document" in entry}
    missing = [n for n in printed if not {n, n.lstrip("-")} & in_table and Decimal(n) not in {Decimal(str(g.p)) / g.q for g in given}]
    assert not missing, missing
