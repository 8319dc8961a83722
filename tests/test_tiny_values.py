"""A value far below 1 in a check table: scientific notation, not fifty zeros; and a zero's check reported as
the absolute difference it is judged by, not as digits agreeing with noise."""

from __future__ import annotations

import json
import re

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.checks.finite_differences import ABSOLUTE_EXPONENT, REQUIRED_DIGITS
from symbackprop.checks.graph import AdjointCheck
from symbackprop.numbers.rounding import general, significant, tabulated
from symbackprop.solution.build import agreement
from symbackprop.solution.model import Table

SCIENTIFIC = re.compile(r"-?\d\.\d{14}e[-+]\d{2,}")


@pytest.mark.parametrize(("value", "written"), [
    ("0.0821670405642308", "0.0821670405642308"),
    ("0.00000123456789012345", "0.00000123456789012345"),
    ("-2.87696393394324e-51", "-2.87696393394324e-51"),
    ("1.5e-7", "1.50000000000000e-07"),
    ("0", "0.0"),
])
def test_a_table_writes_a_value_under_a_millionth_in_scientific_notation(value, written):
    assert tabulated(mpmath.mpf(value), 15) == written


def test_its_exponent_is_written_as_the_tolerance_column_writes_it():
    assert tabulated(mpmath.mpf("6.06e-07"), 3) == general(6.06e-07, 3) == "6.06e-07"
    assert tabulated(mpmath.mpf("2.9e-51"), 2) == general(2.9e-51, 2)


def test_json_numbers_keep_their_plain_decimal_digits():
    assert significant(mpmath.mpf("-2.87696393394324e-51"), 15).startswith("-0.0000000000")


def test_a_zero_is_judged_by_its_absolute_difference_and_says_so():
    noise = AdjointCheck("s", mpmath.mpf("-2.9e-51"), mpmath.mpf(0), mpmath.mpf("1e-25"))
    assert noise.status == "pass" and noise.absolute_difference == mpmath.mpf("2.9e-51")
    assert agreement(noise.agreeing_digits, noise.absolute_difference) == "|diff| 2.9e-51"
    too_far = AdjointCheck("s", mpmath.mpf(0), mpmath.mpf(10) ** (1 - ABSOLUTE_EXPONENT), mpmath.mpf("1e-25"))
    assert too_far.status == "FAIL"


def test_a_value_of_some_size_keeps_its_digits_agreeing():
    check = AdjointCheck("w", mpmath.mpf("0.5"), mpmath.mpf("0.5") + mpmath.mpf("1e-30"), mpmath.mpf("1e-25"))
    assert check.absolute_difference is None
    assert agreement(check.agreeing_digits, check.absolute_difference) == "30"
    assert check.agreeing_digits >= REQUIRED_DIGITS


@pytest.fixture(scope="module")
def attention_key():
    """The causal attention exercise's answers (`exercise --answers`) at seed 3: dE/ds_{1,1} is a softmax over one
    entry, 0 but for ~1e-51 of noise."""
    return sbp.layer_exercise(3, "attention").answers()


def _check_rows(record) -> list[tuple]:
    table = next(item for section in record.sections if section.title == "Gradient checks"
                 for item in section.items if isinstance(item, Table))
    return list(table.rows)


def test_the_attention_keys_noise_is_written_in_scientific_notation(attention_key):
    rows = _check_rows(attention_key.record)
    zeros = [row for row in rows if row[3].startswith("|diff| ")]
    assert len(zeros) >= 1
    for row in zeros:
        assert SCIENTIFIC.fullmatch(row[1]), row
        assert row[4] == "pass"
    assert not any("0.000000" in cell for row in rows for cell in row[1:3])


def test_every_format_shows_the_same_cells(attention_key):
    row = next(row for row in _check_rows(attention_key.record) if row[3].startswith("|diff| "))
    for form in ("text", "markdown", "latex", "html"):
        rendered = attention_key.render(form, **({"width": None} if form == "text" else {}))
        assert row[1] in rendered and row[3].removeprefix("|diff| ") in rendered, form
        assert "compared absolutely" in rendered
    cells = [cell for section in json.loads(attention_key.render("json"))["sections"] for item in section["items"]
             if item["type"] == "table" for line in item["rows"] for cell in line]
    assert row[1] in cells and row[3] in cells
