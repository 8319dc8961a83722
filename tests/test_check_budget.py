"""`check` on formulas that blow up (issue #17): every check ends within its budget, in one line or a verdict."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbackprop.api import check
from symbackprop.checks.budget import OutOfTime, attempt, deadline, within_budget
from symbackprop.cli import main
from symbackprop.errors import InputError

SUM = "(w_1+w_2+w_3+w_4+w_5+w_6+w_7+w_8)"
PRODUCT = " ".join(f"(w_{k % 8 + 1} + {k % 7 + 2} w_{(3 * k) % 8 + 1})" for k in range(300))
"""A product of hundreds of sums: 2^300 terms once multiplied out."""


def _run(capsys, *arguments: str) -> tuple[int, str, str, float]:
    started = time.perf_counter()
    code = main(["check", *arguments])
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - started


@pytest.mark.parametrize(("formula", "expands"), [
    (f"{SUM}^{{50}}", True), ("(w_1+w_2)^{100000}", True), (PRODUCT, True),
    ("2^{10^{300} w_5}", None), ("e^{10^{300} w_5}", False),
])
def test_formulas_that_blow_up_are_judged_within_the_budget(capsys, formula, expands):
    code, out, err, seconds = _run(capsys, "--formula", formula, "--wrt", "w5", "--budget", "4")
    assert seconds < 4 + 3
    assert code == 1 and ": wrong" in out and err == ""
    if expands is not None:  # too large to simplify: the numbers alone decide
        assert ("yours - right" in out) is not expands


def test_a_right_formula_too_large_to_expand_is_right_numerically(capsys):
    doubled = "(" + " + ".join(f"2 w_{k}" for k in range(1, 9)) + ")"
    formula = f"\\delta_{{o1}} out_{{h1}} {doubled}^{{60}} / (2^{{60}} {SUM}^{{60}})"
    code, out, err, seconds = _run(capsys, "--formula", formula, "--wrt", "w5", "--budget", "4")
    assert code == 0 and " ".join(out.split()).endswith(": right (numerically, at the spec's point and at random points)")


def test_a_check_that_cannot_finish_says_so_in_one_line(capsys):
    code, out, err, seconds = _run(capsys, "--formula", "\\delta_{o1} out_{h1}", "--wrt", "w5", "--budget", "0.001")
    assert code == 2 and out == ""
    assert err == ("symbackprop: --budget: cannot decide within the budget of 0.001 s; a larger budget may, "
                   "or a smaller formula\n")


@pytest.mark.parametrize(("formula", "says"), [
    ("\\sqrt{-1}", "not a real number"),
    ("\\ln(-2)", "not a real number"),
    ("\\frac{\\partial w_5}{\\partial w_5}", "formula: the network has no quantity dw_5/dw_5"),
])
def test_formulas_without_a_value_are_bad_input(formula, says):
    with pytest.raises(InputError, match=says):
        check(formula=formula, wrt="w5")


@pytest.mark.parametrize("budget", ["0", "-1", "1e9", "abc", "3601"])
def test_the_budget_is_seconds_up_to_an_hour(capsys, budget):
    code, out, err, seconds = _run(capsys, "--value", "0.1", "--wrt", "w5", "--budget", budget)
    assert code == 2 and err.startswith("symbackprop: check: argument --budget: expected seconds")


def test_an_inner_deadline_gives_up_its_part_and_the_outer_one_still_answers():
    def slow() -> None:
        while True:
            pass

    def outer() -> str:
        assert attempt(0.1, slow) is None
        return "answered"

    assert within_budget(5, outer) == "answered"
    with pytest.raises(InputError, match="cannot decide within the budget of 0.2 s"):
        within_budget(0.2, lambda: attempt(0.9, slow) or slow())


def test_the_outer_deadline_is_not_taken_for_the_inner_one():
    with deadline(0.1) as outer:
        with pytest.raises(OutOfTime) as caught:
            with deadline(60):
                while True:
                    pass
    assert caught.value.token is outer


_NAMES = st.sampled_from(["w_1", "w_5", "w_8", "out_{h1}", "\\delta_{o1}", "net_{o2}", "\\eta", "2", "0.5", "10^{300}"])


def _formulas() -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=2, max_size=6).map(lambda terms: "(" + " + ".join(terms) + ")"),
            st.lists(inner, min_size=2, max_size=6).map(" \\cdot ".join),
            st.tuples(inner, st.integers(-3, 100_000)).map(lambda pair: f"({pair[0]})^{{{pair[1]}}}"),
            st.tuples(st.sampled_from(["e", "2"]), inner).map(lambda pair: f"{pair[0]}^{{{pair[1]}}}"),
            st.tuples(inner, inner).map(lambda pair: f"\\frac{{{pair[0]}}}{{{pair[1]}}}"),
        )
    return st.recursive(_NAMES, grow, max_leaves=40)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_formulas())
def test_random_formula_shapes_are_judged_within_the_budget(formula):
    started = time.perf_counter()
    try:
        result = check(formula=formula, wrt="w5", budget=1.5)
        assert result.render("text")
    except InputError as error:
        assert str(error).startswith(("formula: ", "--formula: ", "--budget: "))
    assert time.perf_counter() - started < 1.5 + 2
