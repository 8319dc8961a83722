"""The tutor page's data: the same values as `solve --format json`, wrong answers and by-hand values as `check`
judges them, nothing fetched, progress kept under a key of the spec's name and the data's hash."""

from __future__ import annotations

import json
from decimal import Decimal
import re

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.numbers.rounding import fixed, rounds_to


def page_data(html: str) -> dict:
    blob = re.search(r'<script type="application/json" id="tutor-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


@pytest.fixture(scope="module")
def html() -> str:
    return sbp.tutor("mazur").html()


@pytest.fixture(scope="module")
def data(html) -> dict:
    return page_data(html)


def solved_steps(record: dict):
    """(quantity, result) of every step of a `solve --format json` record with a number, in order."""
    for item in record.get("sections", record.get("items", [])):
        if item["type"] == "section":
            yield from solved_steps(item)
        elif item["type"] == "step" and isinstance(item["result"], str):
            yield item["symbol"]["text"], item["result"]


def by_text(data: dict, text: str) -> dict:
    return next(q for q in data["questions"] if q["text"] == text)


def test_values_are_solve_json_s_in_the_document_s_order(data, capsys):
    assert main(["solve", "mazur", "--format", "json"]) == 0
    solved = list(solved_steps(json.loads(capsys.readouterr().out)))
    asked = [(q["text"], q["result"]) for q in data["questions"]]
    # Every step of the solution with a number is asked, in order, once: the error after the update in the
    # simultaneous order, not again in the output-first order (the checker's E_total^+ is the first).
    first = {}
    kept = [(text, result) for text, result in solved if first.setdefault(text, result) == result]
    assert asked == kept and len(solved) - len(kept) == 1
    assert len(asked) == 84
    for q in data["questions"]:
        assert rounds_to(mpmath.mpf(q["exact"]), q["result"]), q["id"]
        assert len(q["exact"].replace("-", "").replace(".", "").lstrip("0")) >= 20


@pytest.mark.parametrize("quantity", ["net_h1", "E_total"])
def test_wrong_answers_are_check_s_diagnoses(data, quantity):
    question = by_text(data, quantity)
    assert question["mistakes"]
    shown = [m for m in question["mistakes"]  # the page never offers one that gives the right value at the digits typed
             if fixed(mpmath.mpf(m["value"]), 9) != fixed(mpmath.mpf(question["exact"]), 9)]
    assert shown
    for mistake in shown:
        typed = f"{Decimal(fixed(mpmath.mpf(mistake['value']), 9)):.9f}"  # typed to 9 decimals, zeros kept
        verdict = json.loads(sbp.check("mazur", value=typed, quantity=quantity).render("json"))
        assert not verdict["correct"]
        assert {"description": mistake["description"], "exact": True} in [
            {"description": e["description"]["text"], "exact": e["exact"]} for e in verdict["explanations"]]


def test_values_by_hand_are_right_by_check(data):
    hand = by_text(data, "E_total")["by_hand"]
    assert hand == {"2": "0.29", "3": "0.299", "9": "0.298371110", "11": "0.29837110875"}
    for typed in hand.values():
        verdict = json.loads(sbp.check("mazur", value=typed, quantity="E_total").render("json"))
        # right by check: rounded by hand, or (0.29) the exact value truncated, which check names first
        assert verdict["correct"] and (verdict["by_hand"] or verdict["rounding"] == "truncated")


def test_highlight_names_the_figure_s_keys(html, data):
    net_o2 = by_text(data, "net_o2")
    assert net_o2["nodes"] == ["h1", "h2", "o2", "b_2"]
    assert net_o2["edges"] == ["h1 o2", "h2 o2", "b_2 o2"]
    for key in net_o2["edges"]:
        assert f'data-edge="{key}"' in html
    for key in net_o2["nodes"]:
        assert f'data-node="{key}"' in html


def test_the_page_fetches_nothing(html):
    assert not re.search(r"https?:|\bsrc=|\bhref=|@import|url\(", html)
    assert html.count("<script") == 2


def test_progress_key_names_the_spec_and_hashes_the_data(data):
    assert re.fullmatch(r"symbackprop-tutor:mazur:[0-9a-f]{16}", data["storage"])
    other = page_data(sbp.tutor("mazur", decimals=4).html())
    assert other["storage"] != data["storage"]


def test_tutor_command_writes_the_page(tmp_path):
    path = tmp_path / "page.html"
    assert main(["tutor", "classifier", "-o", str(path)]) == 0
    assert page_data(path.read_text(encoding="utf-8"))["name"] == "classifier"

