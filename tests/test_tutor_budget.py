"""Which wrong answers a tutor page keeps (`likeliest`), and the size budget: the document's network's page under
300 KB with every wrong answer it can offer, three layers of 8 under 2 MB with the engine's likeliest."""

from __future__ import annotations

import mpmath
import pytest
from sympy import Symbol

import symbackprop as sbp
from symbackprop.checks.verify import Mistake
from symbackprop.numbers.rounding import significant
from symbackprop.printers.json import note_text
from symbackprop.solution.model import Note
from symbackprop.solution.reports import describe
from symbackprop.solution.tutor import LIKELIEST, NEAREST, likeliest
from tests.test_tutor import assert_check_s_diagnoses, by_text, mistakes, page_data


@pytest.fixture(scope="module")
def html() -> str:
    return sbp.tutor("mazur").html()


@pytest.fixture(scope="module")
def data(html) -> dict:
    return page_data(html)


def engine_s_wrong_answers(problem, data: dict) -> dict[str, list[dict]]:
    """Every question's wrong answers as the engine works them out (`Checker.own_mistakes`), in the page's words."""
    checker = problem.checker
    return {q["id"]: [{"value": significant(value), "description": note_text(Note(describe(mistake)))}
                      for mistake, value in checker.own_mistakes(checker.symbols[q["text"]])] for q in data["questions"]}


def test_the_document_s_page_keeps_every_wrong_answer_that_can_be_offered(data):
    # Each step of the 2-2-2 network has at most LIKELIEST + NEAREST wrong answers: none is dropped but those
    # that give the right value, which the page could never offer.
    engine = engine_s_wrong_answers(sbp.open_problem("mazur"), data)
    for q in data["questions"]:
        kept = mistakes(data, q)
        assert sorted(kept, key=str) == sorted((m for m in engine[q["id"]] if m["value"] != q["exact"]), key=str)
    assert sum(len(q["mistakes"]) for q in data["questions"]) == 260


def test_likeliest_first_a_weight_of_the_nearest_number(data):
    words = [m["description"] for m in mistakes(data, by_text(data, "net_o2"))]
    assert [w for w in words if " where the path " in w][0] == "w_6 where the path from h1 to o2 goes through w_7 (in net_o2)"
    # the kinds in turn: a term left out, then a weight of another path, then a term again
    assert [w.split()[1] for w in words[:3]] == ["term", "where", "term"]


def test_likeliest_keeps_the_classic_kinds_then_the_nearest_values():
    mistake = lambda kind, used=None, instead=None: Mistake(kind, used, instead, Symbol("net_h1"), ("i1", "h1"))
    w = [Symbol(f"w_{k}") for k in range(1, 12)]
    found = [(mistake("wrong-weight", w[k], w[0]), mpmath.mpf(k)) for k in range(10, 0, -1)]
    found += [(mistake("missing-term", w[0]), mpmath.mpf(50)), (mistake("wrong-weight", w[2], w[1]), mpmath.mpf("20.5"))]
    found += [(mistake("missing-term", w[1]), mpmath.mpf(20))]  # gives the right value: never kept
    kept = likeliest(found, mpmath.mpf(20))
    assert len(kept) == LIKELIEST + NEAREST
    assert [(m.kind, m.used) for m, _ in kept[:3]] == [
        ("missing-term", w[0]), ("wrong-weight", w[1]), ("wrong-weight", w[2])]  # kinds in turn; nearest number
    # then w_3, w_4 for w_1 by their numbers, and of the rest the two nearest 20: w_11 (10) and w_10 (9)
    assert [m.used for m, _ in kept[3:]] == [w[2], w[3], w[10], w[9]]


@pytest.fixture(scope="module")
def eights():
    """Eight inputs and three layers of 8 sigmoid neurons (exercise --seed 1 --layers 8,8,8,8): its page and problem."""
    problem = sbp.exercise(1, layers="8,8,8,8").problem
    return problem, problem.tutor().html()


def test_size_budget(html, eights):
    assert len(html.encode()) < 300_000
    assert len(eights[1].encode()) < 2_000_000


def test_a_wide_page_keeps_the_engine_s_likeliest_wrong_answers(eights):
    problem, page = eights
    data = page_data(page)
    assert len(data["questions"]) == 1328
    engine = engine_s_wrong_answers(problem, data)
    first = data["questions"][0]
    assert first["text"] == "net_h1,1" and len(engine[first["id"]]) == 457
    for q in data["questions"]:
        kept = mistakes(data, q)
        assert len(kept) <= LIKELIEST + NEAREST and all(m in engine[q["id"]] and m["value"] != q["exact"] for m in kept)
        assert len(kept) == min(LIKELIEST + NEAREST, len([m for m in engine[q["id"]] if m["value"] != q["exact"]]))
    assert_check_s_diagnoses(problem, data, first)
