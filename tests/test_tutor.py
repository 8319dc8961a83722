"""The tutor page's data: the same values as `solve --format json`, wrong answers and by-hand values as `check`
judges them, nothing fetched, progress kept under a key of the spec's name and the data's hash."""

from __future__ import annotations

import json
from decimal import Decimal
import re
from pathlib import Path

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.numbers.rounding import fixed, rounds_to


def page_data(html: str) -> dict:
    blob = re.search(r'<script type="application/json" id="tutor-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def mistakes(data: dict, question: dict) -> list[dict]:
    """A question's wrong answers as the page's script reads them: [value, wording, formula, ...], the wording's
    pieces with the formulas between them."""
    read = []
    for value, wording, *formulas in question["mistakes"]:
        pieces = data["wordings"][wording]
        assert len(pieces) == len(formulas) + 1
        read.append({"value": value, "description": pieces[0] + "".join(f + p for f, p in zip(formulas, pieces[1:]))})
    return read


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
    assert_check_s_diagnoses(sbp.open_problem("mazur"), data, by_text(data, quantity))


def assert_check_s_diagnoses(problem, data: dict, question: dict) -> None:
    """Each wrong answer the page keeps for `question`, typed to 9 decimals, is one `check --value` names, or
    check names as many others (it shows 3) that give the same value."""
    shown = [m for m in mistakes(data, question)  # the page never offers one that gives the right value at the digits typed
             if fixed(mpmath.mpf(m["value"]), 9) != fixed(mpmath.mpf(question["exact"]), 9)]
    assert shown
    for mistake in shown:
        typed = f"{Decimal(fixed(mpmath.mpf(mistake['value']), 9)):.9f}"  # typed to 9 decimals, zeros kept
        verdict = json.loads(problem.check(value=typed, quantity=question["text"]).render("json"))
        named = [{"description": e["description"]["text"], "value": e["value"]}
                 for e in verdict["explanations"] if e["exact"]]
        assert not verdict["correct"]
        assert mistake in named or len(named) == 3 and all(e["value"] == mistake["value"] for e in named)


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


def read_openings(data: dict) -> dict[str, dict]:
    """What clicking each part of the figure shows, as the page's script reads it: a part that names another
    shows what that one shows; nodes and edges are positions in the figure's lists of keys."""
    figure, read = data["figure"], {}
    for key, shown in data["openings"].items():
        shown = data["openings"][shown] if isinstance(shown, str) else shown
        read[key] = {**shown, "nodes": [figure["nodes"][k] for k in shown["nodes"]],
                     "edges": [figure["edges"][k] for k in shown["edges"]]}
    return read


def test_each_weight_and_node_opens_its_gradient_s_paths_and_derivation(data):
    openings = read_openings(data)
    assert len(openings) == 12 + 8  # every edge of a weight or bias, every node
    assert data["openings"]["node b_2"] == "edge b_2 o1"  # a bias's node shows what its edges show
    first = {}
    for q in data["questions"]:
        first.setdefault(q["section"], q["id"])
    # w5: the one edge of dE_total/dw5's paths, as the worked solution's figure of that gradient draws it
    assert openings["edge h1 o1"] == {"label": "w₅", "nodes": ["h1", "o1"], "edges": ["h1 o1"],
                                      "question": first["Gradient for w₅"]}
    assert openings["edge i_1 h1"]["edges"] == ["i_1 h1", "h1 o1", "h1 o2"]
    assert openings["edge b_2 o1"] == openings["node b_2"]  # a bias: its edges and its node alike
    assert openings["node b_2"]["edges"] == ["b_2 o1", "b_2 o2"]
    # a neuron: everything downstream of it, and the derivation of its delta; an input: its paths, no gradient
    h1 = openings["node h1"]
    assert h1["edges"] == ["h1 o1", "h1 o2"] and h1["question"] == first["Gradient for w₁"]
    assert next(q for q in data["questions"] if q["text"] == "delta_h1")["section"] == "Gradient for w₁"
    assert openings["node o1"]["edges"] == [] and openings["node o1"]["question"] == first["Gradient for w₅"]
    assert openings["node i_2"]["question"] is None
    assert openings["node i_2"]["edges"] == ["i_2 h1", "i_2 h2", "h1 o1", "h2 o1", "h1 o2", "h2 o2"]


def test_the_example_s_page_in_docs_is_current(html):
    actual = (Path(__file__).resolve().parents[1] / "docs" / "tutor.html").read_text(encoding="utf-8")
    assert actual == html, "regenerate with: symbackprop tutor -o docs/tutor.html"


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

