"""Exact evaluation, display rounding, hand rounding, and compiled training against the exact path."""

from __future__ import annotations

from decimal import Decimal

import mpmath
import pytest

from symbackprop.numbers.evaluate import printed_mpf
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.rounding import decimals_of, fixed, round_half_up, significant
from symbackprop.numbers.training import PROGRESS_CALLS, compile_network, train


def test_rounding_is_half_up_away_from_zero():
    assert round_half_up(mpmath.mpf("-0.0190491185"), 9) == Decimal("-0.019049119")
    assert round_half_up(mpmath.mpf("0.0000000005"), 9) == Decimal("0.000000001")
    assert round_half_up(Decimal("2.5"), 0) == Decimal("3")
    assert fixed(mpmath.mpf("0.7513650695"), 9) == "0.75136507"
    assert fixed(mpmath.mpf("-1e-12"), 9) == "0"
    assert decimals_of("0.0000351085") == 10 and decimals_of("0.40") == 2 and decimals_of("3") == 0


@pytest.mark.parametrize(("printed", "with_a_zero"), [(".0", "0.0"), ("-.00", "-0.00"), (".5", "0.5"),
                                                    ("-.082167041", "-0.082167041"), (".82167041e-1", "0.082167041")])
def test_a_written_number_without_a_digit_before_its_point_reads_as_with_one(printed, with_a_zero):
    """mpmath itself reads no number from '.0' (a ValueError, a traceback from check --value .0)."""
    with mpmath.workdps(50):
        assert printed_mpf(printed) == mpmath.mpf(with_a_zero)


def test_a_negative_value_that_rounds_to_zero_is_zero_not_minus_zero():
    assert format(round_half_up(mpmath.mpf("-1e-50"), 0), "f") == "0"
    assert format(round_half_up(mpmath.mpf("-0.0004"), 3), "f") == "0.000"
    assert format(round_half_up(mpmath.mpf("-0.0005"), 3), "f") == "-0.001"


def test_values_carry_more_than_thirty_digits(mazur, mazur_values):
    out_h1 = mazur_values["out_h1"]
    with mpmath.workdps(60):
        exact = 1 / (1 + mpmath.exp(-mpmath.mpf(3775) / 10000))
    assert abs(out_h1 - exact) < mpmath.mpf(10) ** -45
    assert len(significant(out_h1, 30).replace("0.", "", 1)) >= 30


def test_hand_rounding_is_an_explicit_option(mazur):
    by_hand = {s.name: v for s, v in pass_values(mazur, hand_round=9).items()}
    assert by_hand["delta_o2"] == mpmath.mpf("-0.038098237")
    assert format(round_half_up(by_hand["dE_o2/dout_h1"], 9), "f") == "-0.019049119"


def test_one_compiled_step_equals_the_exact_updates(mazur, mazur_values):
    result = train(mazur, 1, "simultaneous", "mpmath")
    for k in range(1, 9):
        expected = mazur_values[f"w_{k}^+"]
        assert abs(result.parameters[f"w{k}"] - expected) < mpmath.mpf(10) ** -45
    assert result.parameters["b1"] == mpmath.mpf("0.35")
    assert abs(result.history[0][0] - mazur_values["E_total"]) < mpmath.mpf(10) ** -45


def test_output_first_order_back_propagates_through_the_new_output_weights(mazur, mazur_values):
    v = mazur_values
    result = train(mazur, 1, "output-first", "mpmath")
    sensitivity = v["delta_o1"] * v["w_5^+"] + v["delta_o2"] * v["w_7^+"]
    delta_h1 = sensitivity * v["out_h1"] * (1 - v["out_h1"])
    expected_w1 = v["w_1"] - v["eta"] * delta_h1 * v["i_1"]
    assert abs(result.parameters["w1"] - expected_w1) < mpmath.mpf(10) ** -45
    assert abs(result.parameters["w5"] - v["w_5^+"]) < mpmath.mpf(10) ** -45
    assert result.parameters["w1"] != train(mazur, 1, "simultaneous", "mpmath").parameters["w1"]


@pytest.mark.parametrize("order", ["simultaneous", "output-first"])
def test_double_precision_training_follows_the_exact_path(mazur, order):
    # 200 steps of a well-conditioned descent: rounding errors of ~1e-16 per step stay far below 1e-12.
    exact = train(mazur, 200, order, "mpmath")
    double = train(mazur, 200, order, "math")
    for name, value in exact.parameters.items():
        assert abs(double.parameters[name] - float(value)) <= 1e-12 * max(1.0, abs(float(value))), name
    assert abs(double.error - float(exact.error)) <= 1e-12 * float(exact.error)


def test_unknown_order_is_refused(mazur):
    with pytest.raises(ValueError):
        compile_network(mazur, "backwards")


@pytest.mark.parametrize(("steps", "every"), [(1000, 1), (1000, 7), (10, 3)])
def test_progress_is_reported_a_bounded_number_of_times_up_to_the_last_step(mazur, steps, every):
    seen = []
    train(mazur, steps, backend="math", progress=seen.append, every=every)
    assert seen == sorted(set(seen)) and seen[-1] == steps
    assert len(seen) <= PROGRESS_CALLS + 1
