"""check judges one line honestly: lines of `solve` read back and are right, chains are judged part by part with
numbers at their printed precision, every name people write reads, the rounding model, diagnoses that only
offer mistakes giving the written number, and unknown names with a suggestion."""

from __future__ import annotations

import re

import mpmath
import pytest

from symbackprop import open_problem
from symbackprop.cli import main
from symbackprop.errors import InputError
from symbackprop.numbers.rounding import (
    ROUNDED, TIE, TRUNCATED, HandRounding, Rounding, how_written, parse_hand_rounding,
)

MAZUR = open_problem("mazur")
W5_LINE = "∂E_total/∂w₅ = 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041"
DELTA_LINE = "δ_o1 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 = 0.74136507 · 0.186815602 = 0.138498562"


def _check(problem=MAZUR, **arguments):
    return problem.check(budget=None, **arguments).verdict


def _equation_lines(example: str, ascii: bool) -> list[str]:
    """Every line of `solve`'s text that states a quantity (continuation lines joined), prose left out."""
    lines: list[str] = []
    for line in open_problem(example).solve().render("text", ascii=ascii, width=80).splitlines():
        if re.match(r"\s+\S", line) and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return list(dict.fromkeys(line for line in lines if " = " in line and ":" not in line))


@pytest.mark.parametrize("ascii", [False, True], ids=["unicode", "ascii"])
@pytest.mark.parametrize("example", ["mazur", "deep", "classifier"])
def test_every_line_solve_prints_reads_back_and_is_right(example, ascii):
    problem = open_problem(example)
    lines = _equation_lines(example, ascii)
    assert len(lines) > 50 and any(line.count(" = ") >= 3 for line in lines)
    wrong = [line for line in lines if not problem.check(formula=line, budget=None)]
    assert wrong == []


def test_the_issue_lines_are_right_part_by_part():
    verdict = _check(formula=W5_LINE.replace("∂E_total/∂w₅ = ", "", 1), wrt="w5")
    assert verdict.correct and [p.correct for p in verdict.parts] == [True, True]
    low, high = verdict.parts[0].interval
    assert low < verdict.expected < high and high - low < mpmath.mpf("2e-9")
    assert len(_check(formula=W5_LINE, wrt="w5").parts) == 2  # the quantity itself is not a part
    assert _check(formula=DELTA_LINE, quantity="delta_o1").correct
    assert _check(formula=DELTA_LINE).correct


def test_a_wrong_number_in_a_chain_is_found_and_diagnosed():
    line = "∂E_total/∂w₅ = 0.74136507 · 0.186815602 · 0.596884378 = 0.082667628"
    verdict = _check(formula=line)
    assert not verdict.correct and [p.correct for p in verdict.parts] == [False, False]
    assert verdict.parts[0].written == "0.74136507 · 0.186815602 · 0.596884378"
    assert verdict.reproduced and verdict.explanations[0].mistake.kind == "swapped"
    assert str(verdict.explanations[0].mistake.used) == "out_h2"


def test_a_rounded_number_that_happens_to_be_a_given_number_is_taken_at_its_digits():
    verdict = _check(formula="0.7414 · 0.1868 · 0.6", wrt="w5")  # 0.6 is out_h1 rounded, and b_2
    assert verdict.correct and verdict.interval[1] - verdict.interval[0] > mpmath.mpf("0.01")
    assert not _check(formula="0.7414 · 0.1868 · 0.7", wrt="w5").correct


def test_a_number_carried_from_rounded_numbers_before_it_is_right():
    verdict = _check(formula="∂E_total/∂w₅ = 0.7414 · 0.1868 · 0.5933 = 0.082168")  # exact: 0.082167
    assert verdict.correct and verdict.parts[-1].rounding == "carried from the part before"
    assert not _check(formula="∂E_total/∂w₅ = 0.7414 · 0.1868 · 0.5933 = 0.0819").correct


@pytest.mark.parametrize("quantity, value", [
    ("E_total[1]", "0.298371109"), ("net_h1[1]", "0.3775"), ("out_o1[1]", "0.75136507"),
    (r"net_{h1}^{(1)}", "0.3775"), ("E_total^+", "0.291027774"), ("out_o1^+", "0.742088111"), ("w_5^+", "0.35891648"),
    ("w₅⁺", "0.35891648"), ("-delta_o1", "-0.138498562"), ("eta*dE_total/dw5", "0.04108352"),
])
def test_names_people_write_read_as_the_network_quantity(quantity, value):
    assert _check(value=value, quantity=quantity).correct


def test_batch_names_read_in_a_batch():
    classifier = open_problem("classifier")
    for quantity in ("net_h1[1]", "out_o1[2]", r"net_{h1}^{(2)}", "E_total[1]"):
        right = _check(classifier, value="0", quantity=quantity).expected
        assert _check(classifier, value=mpmath.nstr(right, 12), quantity=quantity).correct


def test_a_second_sample_of_a_one_sample_spec_is_refused_with_the_reason():
    with pytest.raises(InputError, match=r"^quantity: unknown name 'E_total\[2\]' .*the spec has 1 sample"):
        _check(value="0.3", quantity="E_total[2]")


def test_the_documents_error_after_the_update_is_right_for_the_output_first_order():
    verdict = _check(value="0.291027924", quantity="E_total^+")
    assert verdict.correct and verdict.order == "output-first"
    assert not _check(value="0.291027925", quantity="E_total^+").correct


@pytest.mark.parametrize("wrt", ["w5", "w_5", "w₅", "w_{5}"])
def test_wrt_in_every_notation(wrt):
    assert _check(value="0.082167041", wrt=wrt).correct


def test_rounding_model():
    with mpmath.workdps(50):
        tie = mpmath.mpf(345) / 1000
    assert how_written(tie, "0.35") == ROUNDED and how_written(tie, "0.34") == TIE
    value = mpmath.mpf("0.0821670405642")
    assert how_written(value, "0.08216") == TRUNCATED and how_written(value, "0.08215") is None
    assert how_written(-value, "-0.08216") == TRUNCATED
    assert Rounding(3, significant=True).apply(value) == mpmath.mpf("0.0822")
    assert Rounding(3, rule="truncated").apply(value) == mpmath.mpf("0.082")
    assert parse_hand_rounding("outputs=3,deltas=4") == HandRounding(
        (("outputs", Rounding(3)), ("deltas", Rounding(4))))
    assert parse_hand_rounding("4sf,rule=truncated") == HandRounding(rest=Rounding(4, True, "truncated"))
    for bad in ("outputs=x", "colour=3", "rule=up", "0sf", "outputs=51"):
        with pytest.raises(ValueError):
            parse_hand_rounding(bad)


def test_a_tie_and_a_truncated_number_are_right_and_say_so():
    tie = _check(value="0.377", quantity="net_h1")  # net_h1 = 0.3775 exactly
    assert tie.correct and tie.rounding == TIE
    cut = _check(value="0.08216", wrt="w5")
    assert cut.correct and cut.rounding == TRUNCATED and cut.explanations == []


def _hand_value(rounding: HandRounding, quantity: str) -> str:
    checker = MAZUR.checker
    symbol = checker.quantity(checker.resolve(quantity))
    return mpmath.nstr(checker._by_hand(checker.definitions, symbol, rounding), 6)


def test_hand_rounding_per_kind_is_an_option_and_found_by_the_search():
    rounding = HandRounding((("outputs", Rounding(2)), ("deltas", Rounding(3))))
    written = _hand_value(rounding, "dE_total/dw_1")
    assert not _check(value=written, wrt="w1").correct
    verdict = _check(value=written, wrt="w1", hand_round="outputs=2,deltas=3")
    assert verdict.correct and verdict.by_hand and verdict.rounding == str(rounding)
    found = _check(value=written, wrt="w1").explanations[0]
    assert found.exact and found.mistake.kind == "rounding" and found.mistake.rounding is not None


def test_bad_hand_rounding_is_one_line(capsys):
    assert main(["check", "--value", "0.1", "--wrt", "w5", "--hand-round", "outputs=x"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "symbackprop: --hand-round: outputs=x: expected a whole number of decimals from 0 to 50, "
        "or of significant figures from 1 to 50 followed by sf"]


def test_no_mistake_is_offered_that_gives_the_right_value():
    classifier = open_problem("classifier")
    verdict = _check(classifier, value="1", quantity="net_h1⁽¹⁾")
    right = round(verdict.expected)
    assert verdict.explanations and all(round(e.value) != right or e.value % 1 == mpmath.mpf("0.5")
                                        for e in verdict.explanations)
    delta = _check(value="0.74", quantity="delta_o1")
    assert [e.mistake.kind for e in delta.explanations] == ["dropped-factor"] and delta.reproduced


def test_when_no_mistake_reproduces_the_number_the_closest_is_said_to_be_only_that():
    verdict = _check(value="0.5", quantity="delta_o1")
    assert not verdict.correct and not verdict.reproduced and len(verdict.explanations) == 1
    text = MAZUR.check(value="0.5", quantity="delta_o1").render()
    assert "No likely mistake reproduces your number" in text and "closest:" in text


def test_an_unknown_name_suggests_the_nearest_and_lists_the_names(capsys):
    assert main(["check", "--value", "0.99", "--quantity", "traget_o1"]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("symbackprop: --quantity: unknown name 'traget_o1' (did you mean target_o1? "
                            "the network has i_1, i_2, target_o1,")
    assert " more) at position 0" in first
